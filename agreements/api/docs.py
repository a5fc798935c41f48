"""/api/docs/: the OpenAPI schema as a plain server-rendered page (no script from a CDN, so
the Content-Security-Policy holds)."""

from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


def _ref(schema: dict) -> str:
    """A schema's name for the page: its component, or its type."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"[{_ref(schema.get('items', {}))}]"
    return schema.get("type", "") or schema.get("format", "")


def docs(request):
    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "body": [(kind, _ref(c.get("schema", {}))) for kind, c in body.items()],
                    "responses": [
                        (
                            code,
                            answer.get("description", ""),
                            ", ".join(
                                f"{kind} {_ref(c.get('schema', {}))}".strip()
                                for kind, c in answer.get("content", {}).items()
                            ),
                        )
                        for code, answer in operation.get("responses", {}).items()
                    ],
                }
            )
    components = [
        (name, component.get("properties", {}), component.get("required", []))
        for name, component in schema.get("components", {}).get("schemas", {}).items()
    ]
    return render(
        request,
        "api/docs.html",
        {"info": schema["info"], "operations": operations, "components": components},
    )
