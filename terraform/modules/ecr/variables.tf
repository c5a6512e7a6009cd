variable "services" {
  description = "Services that get an image repository."
  type        = list(string)
  validation {
    condition     = alltrue([for service in var.services : can(regex("^[a-z][a-z0-9-]+$", service))])
    error_message = "Service names must be lowercase letters, digits or dashes."
  }
}

variable "repository_prefix" {
  description = "Repositories are <prefix>_<service>; the chart's image.repositoryPrefix is \"<prefix>_\"."
  type        = string
  default     = "quizmesh"
}

variable "image_tag_mutability" {
  description = "MUTABLE where skaffold pushes (it re-pushes <commit>-dirty tags), IMMUTABLE where only CI pushes unique commit tags."
  type        = string
  default     = "IMMUTABLE"
  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}

variable "keep_images" {
  description = "Images kept per repository; older ones expire."
  type        = number
  default     = 50
  validation {
    condition     = var.keep_images >= 5
    error_message = "keep_images must be at least 5 so rollbacks stay possible."
  }
}

variable "force_delete" {
  description = "Allow destroying repositories that still hold images (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
