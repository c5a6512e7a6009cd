variable "name" {
  description = "Name prefix of the cache resources."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 lowercase letters, digits or dashes (replication group ids are short)."
  }
}

variable "vpc_id" {
  description = "VPC of the cache."
  type        = string
}

variable "subnet_group_name" {
  description = "ElastiCache subnet group (private cache subnets)."
  type        = string
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 6379 (the EKS nodes)."
  type        = list(string)
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Redis 7 version such as 7.1 (the parameter group is default.redis7)."
  }
}

variable "node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type must be an ElastiCache type such as cache.t4g.micro."
  }
}

variable "replicas" {
  description = "Read replicas besides the primary; more than 0 enables Multi-AZ failover."
  type        = number
  default     = 0
  validation {
    condition     = var.replicas >= 0 && var.replicas <= 5
    error_message = "replicas must be between 0 and 5."
  }
}

variable "snapshot_retention_days" {
  description = "Days of daily snapshots (0 disables them)."
  type        = number
  default     = 1
}

variable "secret_prefix" {
  description = "Secrets Manager name prefix, e.g. quizmesh/dev."
  type        = string
}

variable "deletion_protection" {
  description = "Production: secrets deleted with a 30-day recovery window (0 = immediately, so dev can be destroyed and re-created)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
