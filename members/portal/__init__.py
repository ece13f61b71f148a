"""The member portal's own pages: account, profile, PIN and data-protection rights. Consent and
face pages live in consent.portal (they sign and withdraw consent, which sits above members)."""
