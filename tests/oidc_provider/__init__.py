"""A tiny, separate OpenID Connect provider (django-oauth-toolkit) that stands in for a
school's 统一身份认证 in the SSO tests. ``serve.py`` runs it in its own process."""
