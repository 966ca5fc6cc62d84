/**
 * Security headers on every response of the HTTP server (web UI, API, boot files). The UI is
 * static files that load only their own scripts and styles and talk only to the API (no inline
 * script, style attribute or event handler; web/ keeps it so), hence a policy of 'self' and
 * nothing else; it is never framed (clickjacking) and sends no Referer (the URL fragment carries
 * the page, never the token, but nothing leaves either way).
 */
import type { RequestHandler } from 'express';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  // Every form of the UI is handled by script (submit is prevented): none ever navigates.
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  };
}
