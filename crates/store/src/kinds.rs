//! The names the store writes down: what a security event was. (What a one-time token is
//! for is the core's [`latchkey_core::onetime::Purpose`].)

/// What happened, as recorded in `security_events.kind`. The stored names are stable: the
/// account's event list shows them, and old rows keep them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Registered,
    RegistrationForExistingAccount,
    SignedIn,
    /// Signed in by exchanging a session imported from the old auth system.
    SessionExchanged,
    SignInFailed,
    SignInUnverified,
    SignInUnblocked,
    SignedOut,
    SessionReplaced,
    SessionRevoked,
    SessionEvicted,
    OtherSessionsRevoked,
    RefreshTokenReused,
    RefreshTokenResent,
    PasswordCheckFailed,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    VerificationEmailSent,
    EmailVerified,
    EmailChangeRequested,
    EmailChangeToTakenAddress,
    EmailChanged,
    ProfileUpdated,
}

impl EventKind {
    pub const ALL: [EventKind; 24] = [
        EventKind::Registered,
        EventKind::RegistrationForExistingAccount,
        EventKind::SignedIn,
        EventKind::SessionExchanged,
        EventKind::SignInFailed,
        EventKind::SignInUnverified,
        EventKind::SignInUnblocked,
        EventKind::SignedOut,
        EventKind::SessionReplaced,
        EventKind::SessionRevoked,
        EventKind::SessionEvicted,
        EventKind::OtherSessionsRevoked,
        EventKind::RefreshTokenReused,
        EventKind::RefreshTokenResent,
        EventKind::PasswordCheckFailed,
        EventKind::PasswordChanged,
        EventKind::PasswordResetRequested,
        EventKind::PasswordReset,
        EventKind::VerificationEmailSent,
        EventKind::EmailVerified,
        EventKind::EmailChangeRequested,
        EventKind::EmailChangeToTakenAddress,
        EventKind::EmailChanged,
        EventKind::ProfileUpdated,
    ];

    /// The stored snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Registered => "registered",
            EventKind::RegistrationForExistingAccount => "registration_for_existing_account",
            EventKind::SignedIn => "signed_in",
            EventKind::SessionExchanged => "session_exchanged",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::SignInUnverified => "sign_in_unverified",
            EventKind::SignInUnblocked => "sign_in_unblocked",
            EventKind::SignedOut => "signed_out",
            EventKind::SessionReplaced => "session_replaced",
            EventKind::SessionRevoked => "session_revoked",
            EventKind::SessionEvicted => "session_evicted",
            EventKind::OtherSessionsRevoked => "other_sessions_revoked",
            EventKind::RefreshTokenReused => "refresh_token_reused",
            EventKind::RefreshTokenResent => "refresh_token_resent",
            EventKind::PasswordCheckFailed => "password_check_failed",
            EventKind::PasswordChanged => "password_changed",
            EventKind::PasswordResetRequested => "password_reset_requested",
            EventKind::PasswordReset => "password_reset",
            EventKind::VerificationEmailSent => "verification_email_sent",
            EventKind::EmailVerified => "email_verified",
            EventKind::EmailChangeRequested => "email_change_requested",
            EventKind::EmailChangeToTakenAddress => "email_change_to_taken_address",
            EventKind::EmailChanged => "email_changed",
            EventKind::ProfileUpdated => "profile_updated",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_has_its_own_name() {
        let mut names: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventKind::ALL.len());
    }
}
