variable "name" {
  description = "Name prefix of the VPC and its resources."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "cidr" {
  description = "IPv4 CIDR of the VPC; a /16 is split into /20 subnets."
  type        = string
  default     = "10.0.0.0/16"
  validation {
    condition     = can(cidrnetmask(var.cidr)) && endswith(var.cidr, "/16")
    error_message = "cidr must be a valid IPv4 /16 block."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets over."
  type        = number
  default     = 3
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4 (EKS and RDS need at least two zones)."
  }
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway (cheaper, dev) instead of one per zone (resilient, prod)."
  type        = bool
  default     = false
}

variable "enable_flow_log" {
  description = "Record VPC flow logs to CloudWatch."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
