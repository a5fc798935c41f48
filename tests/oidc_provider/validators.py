from oauth2_provider.oauth2_validators import OAuth2Validator


class SchoolValidator(OAuth2Validator):
    """Like many schools' providers: ``sub`` is an internal id, the 学号 is its own claim."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "student_no": "profile"}

    def get_additional_claims(self, request):
        return {"student_no": request.user.username, "name": request.user.first_name}
