import { timingSafeEqual } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { AppConfig } from '../config/app-config';

/** The pages and documents meant for people operating the service, not for the read API. */
export function isOperatorPath(path: string): boolean {
  return path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-') || path === '/graph' || path.startsWith('/graph/');
}

/** Whether an Authorization header carries the token: as a Bearer token, or as a Basic password. */
export function carriesToken(authorization: string | undefined, token: string): boolean {
  if (!authorization) return false;
  const [scheme, credentials = ''] = authorization.split(' ', 2);
  let offered: string;
  if (scheme.toLowerCase() === 'bearer') offered = credentials;
  else if (scheme.toLowerCase() === 'basic') offered = Buffer.from(credentials, 'base64').toString('utf8').split(':').slice(1).join(':');
  else return false;
  const a = Buffer.from(offered);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Express middleware for the operator pages: 404 when OPERATOR_PAGES=off; with OPERATOR_TOKEN,
 * 401 unless the request carries it (a browser asks for it once through HTTP Basic: any user
 * name, the token as password). Probes, metrics and the read API are never affected.
 */
export function operatorAccess(http: AppConfig['http']) {
  const refuse = (response: ServerResponse, statusCode: number, message: string) => {
    response.statusCode = statusCode;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.end(JSON.stringify({ statusCode, message }));
  };
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    if (!isOperatorPath(new URL(request.url ?? '/', 'http://localhost').pathname)) return next();
    if (!http.operatorPages) return refuse(response, 404, 'Not Found');
    if (http.operatorToken && !carriesToken(request.headers.authorization, http.operatorToken)) {
      response.setHeader('WWW-Authenticate', 'Basic realm="similarity-worker operator pages", charset="UTF-8"');
      return refuse(response, 401, 'the operator pages need OPERATOR_TOKEN');
    }
    next();
  };
}
