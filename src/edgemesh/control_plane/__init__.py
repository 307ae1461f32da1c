"""The control plane: approvals, accounts and credit grants for operators."""
