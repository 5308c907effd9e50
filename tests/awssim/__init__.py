"""A local AWS (IAM, STS, EKS) for tests: moto plus the IAM behaviour that matters here.

Run with `python -m awssim`; drive it from tests through `awssim.harness.AwsSim`.
"""
