variable "name" {
  description = "Name prefix of the broker resources."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the broker."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the broker (the first one for a single instance)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "At least one private subnet is required."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 5671 (the EKS nodes)."
  type        = list(string)
}

variable "engine_version" {
  description = "RabbitMQ engine version offered by Amazon MQ."
  type        = string
  default     = "3.13"
  validation {
    condition     = can(regex("^[34]\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be <major>.<minor>, e.g. 3.13."
  }
}

variable "instance_type" {
  description = "Broker instance type."
  type        = string
  default     = "mq.t3.micro"
  validation {
    condition     = startswith(var.instance_type, "mq.")
    error_message = "instance_type must be an Amazon MQ type such as mq.t3.micro."
  }
}

variable "cluster" {
  description = "Three-node Multi-AZ cluster instead of a single instance (needs an mq.m5 type)."
  type        = bool
  default     = false
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
