/** German (Sie-Form). */
import { type Catalogue, minChars, waitOf, waitUnits } from "./catalogue.js";

const invalidSession = "Ihre Sitzung ist ungültig. Melden Sie sich erneut an.";
const cannotCheck =
  "Das Passwort dieses Kontos kann nicht geprüft werden. Setzen Sie Ihr Passwort zurück, um fortzufahren.";
const moved = "Seit der Umstellung auf unsere neue Anmeldung sind Sie abgemeldet. Melden Sie sich an, um fortzufahren.";
const tellOwner = "Bitte wenden Sie sich an die Betreiber der Website.";
const tryAgainSoon = "Versuchen Sie es gleich noch einmal.";
const reload = "Laden Sie die Seite neu und versuchen Sie es noch einmal.";

/** After "in" (dative): 1 Sekunde, 2 Sekunden; 1 Minute, 2 Minuten; 1 Stunde, 2 Stunden. */
function waitFor(seconds: number): string {
  const { n, unit } = waitUnits(seconds);
  const word = { second: "Sekunde", minute: "Minute", hour: "Stunde" }[unit];
  return `${n}\u00a0${word}${n === 1 ? "" : "n"}`;
}

export const de: Catalogue = {
  malformed_token: invalidSession,
  unsupported_algorithm: invalidSession,
  forbidden_token_header: invalidSession,
  wrong_token_type: invalidSession,
  invalid_signature: invalidSession,
  invalid_claims: invalidSession,
  token_expired: "Ihre Sitzung ist abgelaufen. Melden Sie sich erneut an.",
  token_not_yet_valid: "Die Uhr Ihres Geräts scheint falsch zu gehen. Prüfen Sie sie und melden Sie sich erneut an.",
  unknown_key: invalidSession,
  invalid_key: invalidSession,
  weak_secret: `Der Signaturschlüssel des Servers ist falsch konfiguriert. ${tellOwner}`,
  invalid_email: "Geben Sie eine gültige E-Mail-Adresse ein.",
  password_too_short: (p) => `Ihr Passwort ist zu kurz: Verwenden Sie mindestens ${minChars(p)} Zeichen.`,
  password_too_long: "Ihr Passwort ist zu lang: Verwenden Sie höchstens 128 Zeichen.",
  password_too_common: "Dieses Passwort gehört zu den häufigsten. Wählen Sie eines, das schwerer zu erraten ist.",
  password_contains_email: "Ihr Passwort darf den Namensteil Ihrer E-Mail-Adresse (vor dem @) nicht enthalten.",
  password_contains_context:
    "Ihr Passwort darf weder Ihren Namen noch den Namen der App oder ein anderes Wort enthalten, das mit dieser Website zu tun hat.",
  invalid_password_policy: `Die Passwortregeln des Servers sind falsch konfiguriert. ${tellOwner}`,
  unsupported_password_hash: cannotCheck,
  password_hash_too_costly: cannotCheck,
  invalid_credentials: "Zu dieser E-Mail-Adresse und diesem Passwort gibt es kein Konto.",
  email_taken: "Diese E-Mail-Adresse wird bereits verwendet.",
  missing_token: "Sie sind abgemeldet. Melden Sie sich an, um fortzufahren.",
  session_revoked: "Diese Sitzung wurde abgemeldet. Melden Sie sich erneut an.",
  session_expired: "Ihre Sitzung ist abgelaufen. Melden Sie sich erneut an.",
  invalid_refresh_token: "Ihre Sitzung ist beendet. Melden Sie sich erneut an.",
  refresh_token_reused:
    "Ihre Sitzung wurde aus Sicherheitsgründen beendet, weil sie an zwei Orten verwendet wurde. Melden Sie sich erneut an.",
  csrf_rejected: `Diese Anfrage kam nicht von dieser Website und wurde deshalb abgelehnt. ${reload}`,
  invalid_or_expired_token:
    "Dieser Link ist ungültig, abgelaufen oder wurde bereits verwendet. Fordern Sie einen neuen an.",
  invalid_imported_session: moved,
  exchange_not_configured: moved,
  email_not_verified: "Bestätigen Sie zuerst Ihre E-Mail-Adresse: Wir haben Ihnen einen neuen Link geschickt.",
  email_already_verified: "Ihre E-Mail-Adresse ist bereits bestätigt.",
  unsupported_locale: "E-Mails sind in dieser Sprache nicht verfügbar. Wählen Sie eine andere.",
  rate_limited: (p) => {
    const wait = waitOf(p);
    return wait === null
      ? "Zu viele Versuche. Warten Sie kurz und versuchen Sie es dann noch einmal."
      : `Zu viele Versuche. Versuchen Sie es in ${waitFor(wait)} noch einmal.`;
  },
  rate_limit_unavailable: `Die Anmeldung ist kurzzeitig nicht verfügbar. ${tryAgainSoon}`,
  not_found: "Das gibt es nicht mehr. Vielleicht wurde es gelöscht.",
  invalid_request: "Einige Ihrer Angaben sind ungültig. Prüfen Sie sie und versuchen Sie es noch einmal.",
  payload_too_large: "Das ist zu lang zum Speichern.",
  unsupported_media_type: `Die App hat etwas gesendet, das der Server nicht versteht. ${reload}`,
  method_not_allowed: `Die App hat etwas angefordert, das der Server nicht unterstützt. ${reload}`,
  unavailable: `Der Dienst ist kurzzeitig nicht verfügbar. ${tryAgainSoon}`,
  internal_error: `Bei uns ist etwas schiefgelaufen. ${tryAgainSoon}`,
};
