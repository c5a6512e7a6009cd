variable "name" {
  description = "Name prefix of the database resources."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_group_name" {
  description = "RDS subnet group (private database subnets)."
  type        = string
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 5432 (the EKS nodes)."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL engine version (<major>.<minor>)."
  type        = string
  default     = "17.6"
  validation {
    condition     = can(regex("^1[5-9]\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 15 or newer, written <major>.<minor>."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.micro"
  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.micro."
  }
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB (autoscaling up to four times this)."
  type        = number
  default     = 20
  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 16384
    error_message = "allocated_storage_gb must be between 20 and 16384."
  }
}

variable "multi_az" {
  description = "Standby replica in a second zone."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 (0 would disable backups)."
  }
}

variable "deletion_protection" {
  description = "Protect against deletion and keep a final snapshot."
  type        = bool
  default     = true
}

variable "service_databases" {
  description = "Services that own a database (one role and database each)."
  type        = list(string)
  default     = ["identity", "quiz", "evaluation"]
}

variable "secret_prefix" {
  description = "Secrets Manager name prefix, e.g. quizmesh/dev."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
