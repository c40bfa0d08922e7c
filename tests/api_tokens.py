"""`token_client(user, scope)`: an APIClient that authenticates with a real personal access token, the
way an integrator does (not the test client's forced authentication)."""

from rest_framework.test import APIClient

from accounts.services import issue_token


def token_client(user, scope: str = "write") -> APIClient:
    client = APIClient()
    token = issue_token(user=user, name=f"test-{scope}", scope=scope)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.token = token
    return client
