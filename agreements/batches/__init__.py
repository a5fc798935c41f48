"""Batch invitations (批量邀请): a unit uploads a list of graduates with one terms template,
previews each row's answer, then sends the valid rows in the background."""
