// latchkey/messages: a sentence for every stable code in every shipped language, checked
// against tests/vectors/error-codes.json (the list the server and the core are tested on).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { ERROR_CODES, errorCodes, isErrorCode } from "latchkey";
import { LOCALES, describeError, messageFor, messages, resolveLocale } from "latchkey/messages";

const { codes } = JSON.parse(readFileSync(new URL("../../tests/vectors/error-codes.json", import.meta.url), "utf8"));

test("the generated ErrorCode list is the vectors' list, and the core's", () => {
  assert.deepEqual([...ERROR_CODES], codes);
  assert.deepEqual(errorCodes(), codes);
  assert.ok(isErrorCode("invalid_credentials"));
  assert.ok(!isErrorCode("invalid_credential"));
});

test("every language has a sentence for every code, and nothing else", () => {
  assert.deepEqual([...LOCALES], ["en", "fr", "de"]);
  for (const locale of LOCALES) {
    const catalogue = messages(locale);
    assert.deepEqual(Object.keys(catalogue).sort(), [...codes].sort(), locale);
    for (const code of codes) {
      const sentence = messageFor(code, { locale });
      assert.equal(typeof sentence, "string");
      assert.ok(sentence.length > 10 && /[.!?]$/.test(sentence), `${locale} ${code}: ${sentence}`);
      assert.ok(!/undefined|NaN|\$\{/.test(sentence), `${locale} ${code}: ${sentence}`);
    }
  }
});

test("the translations are translations: no code reads the same as in English", () => {
  for (const locale of ["fr", "de"]) {
    for (const code of codes) {
      assert.notEqual(messageFor(code, { locale }), messageFor(code, { locale: "en" }), `${locale} ${code}`);
    }
  }
});

test("waits and the password length are put in the sentence, in each language's grammar", () => {
  assert.equal(messageFor("rate_limited", { retryAfter: 90 }), "Too many attempts. Try again in 2 minutes.");
  assert.equal(messageFor("rate_limited", { retryAfter: 1 }), "Too many attempts. Try again in 1 second.");
  assert.equal(messageFor("rate_limited"), "Too many attempts. Wait a little and try again.");
  assert.equal(messageFor("rate_limited", { locale: "fr", retryAfter: 3600 }), "Trop de tentatives. Réessayez dans 1\u00a0heure.");
  assert.equal(messageFor("rate_limited", { locale: "de", retryAfter: 45 }), "Zu viele Versuche. Versuchen Sie es in 45\u00a0Sekunden noch einmal.");
  assert.equal(messageFor("rate_limited", { locale: "de", retryAfter: 60 }), "Zu viele Versuche. Versuchen Sie es in 1\u00a0Minute noch einmal.");
  assert.match(messageFor("password_too_short", { minPasswordChars: 12 }), /at least 12 characters/);
  assert.match(messageFor("password_too_short", { locale: "fr" }), /au moins 8\u00a0caractères/);
  assert.match(messageFor("password_too_short", { locale: "de", minPasswordChars: 10 }), /mindestens 10 Zeichen/);
  assert.equal(
    describeError({ code: "rate_limited", retryAfter: 120 }, { locale: "fr-CA" }),
    "Trop de tentatives. Réessayez dans 2\u00a0minutes.",
  );
});

test("locales resolve to the nearest shipped language, else English", () => {
  assert.equal(resolveLocale("fr-CA"), "fr");
  assert.equal(resolveLocale("de_AT"), "de");
  assert.equal(resolveLocale(["es-ES", "de-DE", "en"]), "de");
  assert.equal(resolveLocale("pt-BR"), "en");
  assert.equal(resolveLocale(undefined), "en");
  assert.equal(resolveLocale(""), "en");
});

test("an app's overrides win, as sentences or functions; unknown codes get the generic sentence", () => {
  const overrides = { invalid_credentials: "Your current password is not right.", rate_limited: ({ retryAfter }) => `Wait ${retryAfter}s.` };
  assert.equal(messageFor("invalid_credentials", { overrides }), "Your current password is not right.");
  assert.equal(messageFor("rate_limited", { overrides, retryAfter: 7, locale: "de" }), "Wait 7s.");
  assert.equal(messageFor("email_taken", { overrides, locale: "de" }), "Diese E-Mail-Adresse wird bereits verwendet.");
  assert.equal(messages("fr", overrides).invalid_credentials, "Your current password is not right.");
  assert.equal(messageFor("some_future_code"), messageFor("internal_error"));
});
