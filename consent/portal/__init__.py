"""Member pages that sign or withdraw consent and enroll a face (the portal's home among them),
the guardian's confirmation page, and the front desk's enrollment page."""
