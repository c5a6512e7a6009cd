module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "20.37.2"

  cluster_name    = var.name
  cluster_version = var.kubernetes_version

  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids

  # Private endpoint for nodes; the public one only from the given CIDRs (operators, CI).
  cluster_endpoint_private_access      = true
  cluster_endpoint_public_access       = length(var.public_access_cidrs) > 0
  cluster_endpoint_public_access_cidrs = var.public_access_cidrs

  # IAM roles for service accounts (IRSA): the EBS CSI driver below, no node-wide credentials.
  enable_irsa                              = true
  enable_cluster_creator_admin_permissions = true
  authentication_mode                      = "API_AND_CONFIG_MAP"

  cluster_enabled_log_types = ["api", "audit", "authenticator"]

  cluster_addons = {
    coredns                = {}
    kube-proxy             = {}
    eks-pod-identity-agent = {}
    # Serves the gp2 StorageClass EKS creates: the Dapr scheduler's StatefulSet volume stays
    # Pending without it, and the dapr release times out.
    aws-ebs-csi-driver = {
      service_account_role_arn = aws_iam_role.ebs_csi.arn
    }
    vpc-cni = {
      before_compute = true
      # NetworkPolicy enforcement by the VPC CNI (the chart's default-deny policies).
      configuration_values = jsonencode({ enableNetworkPolicy = "true" })
    }
  }

  eks_managed_node_groups = {
    default = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.node_instance_types
      capacity_type  = var.node_capacity_type
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_desired_size
      # IMDSv2 only, one hop: pods cannot borrow the node role.
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
  }

  # daprd sidecars talk to each other (50002) and the injector webhook is called by the API server.
  node_security_group_additional_rules = {
    dapr_sidecars = {
      description = "daprd to daprd (service invocation)"
      protocol    = "tcp"
      from_port   = 50002
      to_port     = 50002
      type        = "ingress"
      self        = true
    }
    dapr_injector_webhook = {
      description                   = "API server to the Dapr sidecar injector webhook"
      protocol                      = "tcp"
      from_port                     = 4000
      to_port                       = 4000
      type                          = "ingress"
      source_cluster_security_group = true
    }
  }

  tags = var.tags
}

# IRSA role of the EBS CSI controller (ServiceAccount kube-system/ebs-csi-controller-sa), with
# AWS's managed policy for creating, attaching and deleting volumes.
data "aws_partition" "current" {}

data "aws_iam_policy_document" "ebs_csi_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [module.eks.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${module.eks.oidc_provider}:sub"
      values   = ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    }
    condition {
      test     = "StringEquals"
      variable = "${module.eks.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ebs_csi" {
  name               = "${var.name}-ebs-csi"
  description        = "IRSA role of the EBS CSI driver controller"
  assume_role_policy = data.aws_iam_policy_document.ebs_csi_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "ebs_csi" {
  role       = aws_iam_role.ebs_csi.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
}
