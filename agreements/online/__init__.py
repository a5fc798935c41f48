"""Online signing (线上签约): an employer's invitation, the agreement it leads to after the
college's and the school's review, and its termination (申请解约)."""
