/**
 * French (vouvoiement). French typography wants a no-break space before `:`; it is written
 * `\u00a0` so an editor cannot turn it into a plain one.
 */
import { type Catalogue, minChars, waitOf, waitUnits } from "./catalogue.js";

const invalidSession = "Votre session n'est pas valide. Reconnectez-vous.";
const cannotCheck =
  "Le mot de passe de ce compte ne peut pas être vérifié. Réinitialisez votre mot de passe pour continuer.";
const moved =
  "Votre session a pris fin avec le passage à notre nouveau système de connexion. Connectez-vous pour continuer.";
const tellOwner = "Merci de prévenir le responsable du site.";

function waitFor(seconds: number): string {
  const { n, unit } = waitUnits(seconds);
  const word = { second: "seconde", minute: "minute", hour: "heure" }[unit];
  return `${n}\u00a0${word}${n === 1 ? "" : "s"}`;
}

export const fr: Catalogue = {
  malformed_token: invalidSession,
  unsupported_algorithm: invalidSession,
  forbidden_token_header: invalidSession,
  wrong_token_type: invalidSession,
  invalid_signature: invalidSession,
  invalid_claims: invalidSession,
  token_expired: "Votre session a expiré. Reconnectez-vous.",
  token_not_yet_valid: "L'horloge de votre appareil semble incorrecte. Vérifiez-la, puis reconnectez-vous.",
  unknown_key: invalidSession,
  invalid_key: invalidSession,
  weak_secret: `Le secret de signature du serveur est mal configuré. ${tellOwner}`,
  invalid_email: "Saisissez une adresse e-mail valide.",
  password_too_short: (p) =>
    `Votre mot de passe est trop court\u00a0: utilisez au moins ${minChars(p)}\u00a0caractères.`,
  password_too_long: "Votre mot de passe est trop long\u00a0: utilisez au plus 128\u00a0caractères.",
  password_too_common:
    "Ce mot de passe fait partie des plus courants. Choisissez-en un plus difficile à deviner.",
  password_contains_email:
    "Votre mot de passe ne doit pas contenir l'identifiant de votre adresse e-mail (la partie avant le @).",
  password_contains_context:
    "Votre mot de passe ne doit contenir ni votre nom, ni le nom de l'application, ni un autre mot lié à ce site.",
  invalid_password_policy: `Les règles de mot de passe du serveur sont mal configurées. ${tellOwner}`,
  unsupported_password_hash: cannotCheck,
  password_hash_too_costly: cannotCheck,
  invalid_credentials: "Cette adresse e-mail et ce mot de passe ne correspondent à aucun compte.",
  email_taken: "Cette adresse e-mail est déjà utilisée.",
  missing_token: "Aucune session n'est ouverte. Connectez-vous pour continuer.",
  session_revoked: "Cette session a été fermée. Reconnectez-vous.",
  session_expired: "Votre session a expiré. Reconnectez-vous.",
  invalid_refresh_token: "Votre session a pris fin. Reconnectez-vous.",
  refresh_token_reused:
    "Par sécurité, votre session a été fermée, car elle a été utilisée depuis deux endroits. Reconnectez-vous.",
  csrf_rejected:
    "Cette requête ne provient pas de ce site\u00a0; elle a donc été refusée. Rechargez la page et réessayez.",
  invalid_or_expired_token: "Ce lien n'est pas valide, a expiré ou a déjà servi. Demandez-en un nouveau.",
  invalid_imported_session: moved,
  exchange_not_configured: moved,
  email_not_verified:
    "Confirmez d'abord votre adresse e-mail\u00a0: nous venons de vous envoyer un nouveau lien.",
  email_already_verified: "Votre adresse e-mail est déjà confirmée.",
  unsupported_locale: "Les e-mails ne sont pas disponibles dans cette langue. Choisissez-en une autre.",
  rate_limited: (p) => {
    const wait = waitOf(p);
    return wait === null
      ? "Trop de tentatives. Patientez un peu, puis réessayez."
      : `Trop de tentatives. Réessayez dans ${waitFor(wait)}.`;
  },
  rate_limit_unavailable: "La connexion est momentanément indisponible. Réessayez dans un instant.",
  not_found: "Cet élément n'existe plus. Il a peut-être été supprimé.",
  invalid_request: "Certaines informations saisies ne sont pas valides. Vérifiez-les et réessayez.",
  payload_too_large: "C'est trop long pour être enregistré.",
  unsupported_media_type:
    "L'application a envoyé des données que le serveur ne comprend pas. Rechargez la page et réessayez.",
  method_not_allowed:
    "L'application a demandé une opération que le serveur ne prend pas en charge. Rechargez la page et réessayez.",
  unavailable: "Le service est momentanément indisponible. Réessayez dans un instant.",
  internal_error: "Une erreur s'est produite de notre côté. Réessayez dans un instant.",
};
