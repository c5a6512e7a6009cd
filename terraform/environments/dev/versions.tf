terraform {
  required_version = ">= 1.10.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.7.2"
    }
  }

  # Remote state in S3 with S3-native locking (use_lockfile, Terraform >= 1.10). Bucket and
  # region come from backend.hcl (see backend.hcl.example): terraform init -backend-config=backend.hcl
  backend "s3" {
    key          = "quizmesh/dev/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = "quizmesh"
      Environment = "dev"
    }
  }
}
