"""The REST API for units' HR systems (Django REST framework; docs/api.md).

It acts as the administrator who created the key, through the portal's own services,
loaders and permission functions: nothing here decides who may do what on its own, except
what a key's scope allows (``permissions.py``).
"""
