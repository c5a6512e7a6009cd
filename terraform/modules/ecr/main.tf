resource "aws_ecr_repository" "service" {
  for_each             = toset(var.services)
  # <prefix>_<service>: the name `skaffold --default-repo <registry>` pushes quizmesh/<service> as
  # (it escapes "/" for registries without nested repositories), and what CI pushes.
  name                 = "${var.repository_prefix}_${each.value}"
  image_tag_mutability = var.image_tag_mutability
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "service" {
  for_each   = aws_ecr_repository.service
  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest ${var.keep_images} images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.keep_images
      }
      action = { type = "expire" }
    }]
  })
}
