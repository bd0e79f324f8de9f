"""Re-identification: turning a partner's own pseudonym back into a BSN, once, after an
operator approved it (API.md section 7)."""
