# One IAM role per service ServiceAccount (IRSA), allowed to read only its own secrets; used by
# the optional Dapr secretstores.aws.secretmanager component (dapr.awsSecretStore in the chart).
data "aws_iam_policy_document" "assume" {
  for_each = var.service_secret_arns

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${var.release_name}-${each.key}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "read_secrets" {
  for_each = { for service, arns in var.service_secret_arns : service => arns if length(arns) > 0 }

  statement {
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = each.value
  }
}

resource "aws_iam_role" "service" {
  for_each           = var.service_secret_arns
  name               = "${var.name}-${each.key}"
  description        = "IRSA role of the ${each.key} service account"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "read_secrets" {
  for_each = data.aws_iam_policy_document.read_secrets
  name     = "read-own-secrets"
  role     = aws_iam_role.service[each.key].id
  policy   = each.value.json
}
