import { carriesToken, isOperatorPath } from '../../src/http/operator-access';

const token = 'a-long-operator-token-123';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('operator access', () => {
  it('counts the docs, the graph page, its assets and the report as operator pages, and nothing else', () => {
    for (const path of ['/docs', '/docs/openapi.json', '/docs-json', '/graph', '/graph/report', '/graph/assets/graph.js']) expect(isOperatorPath(path)).toBe(true);
    for (const path of ['/health/live', '/health/ready', '/health/lag', '/metrics', '/students/s-1/neighbors', '/graphql', '/documents']) expect(isOperatorPath(path)).toBe(false);
  });

  it('accepts the token as a Bearer token or as the password of HTTP Basic', () => {
    expect(carriesToken(`Bearer ${token}`, token)).toBe(true);
    expect(carriesToken(basic('anyone', token), token)).toBe(true);
  });

  it('refuses a missing, wrong or partial token', () => {
    expect(carriesToken(undefined, token)).toBe(false);
    expect(carriesToken(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    expect(carriesToken(`Bearer ${token}x`, token)).toBe(false);
    expect(carriesToken(basic(token, 'wrong'), token)).toBe(false);
    expect(carriesToken(`Token ${token}`, token)).toBe(false);
  });
});
