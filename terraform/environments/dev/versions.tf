terraform {
  required_version = ">= 1.10.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.6.3"
    }
    # Required by terraform-aws-modules/eks/aws 20.37.2 (and its submodules): pinned here, at the
    # root, so every init resolves the versions recorded in .terraform.lock.hcl.
    tls = {
      source  = "hashicorp/tls"
      version = "4.0.6"
    }
    time = {
      source  = "hashicorp/time"
      version = "0.12.1"
    }
    cloudinit = {
      source  = "hashicorp/cloudinit"
      version = "2.3.5"
    }
    null = {
      source  = "hashicorp/null"
      version = "3.2.3"
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
