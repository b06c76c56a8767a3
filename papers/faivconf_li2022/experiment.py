"""No experiments: every claim of this paper is not testable here (claims.yaml gives each reason)."""
