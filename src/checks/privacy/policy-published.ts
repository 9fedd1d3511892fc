import { defineCheck, fail, pass, warn } from '../define-check.js';

/** What the checklist's privacy section asks a policy to disclose. */
export const POLICY_TOPICS: Record<string, RegExp> = {
  location: /\blocation\b/i,
  retention: /\bretention\b|\bretain(?:ed)?\b|\bdeleted? after\b/i,
};

const textOf = (html: string) => html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

/** The privacy policy the Custom GPT links to answers 200 with a page that discloses location data. */
export default defineCheck({
  id: 'privacy.policy-published',
  title: 'Privacy policy published',
  needs: ['privacy-url'],
  stages: ['pre'],
  async run({ config, fetch, signal }) {
    const url = config.privacyPolicyUrl.value!;
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, { redirect: 'follow', signal, headers: { accept: 'text/html' } });
      body = await res.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return fail(`cannot fetch ${url}: ${cause?.code ?? (error as Error).message}`, { hint: `Publish the policy at ${url} or fix privacy_policy_url (${config.privacyPolicyUrl.origin}).` });
    }
    const hint = `Publish the policy at ${url} (the Custom GPT's "Privacy policy" link) or fix privacy_policy_url (${config.privacyPolicyUrl.origin}).`;
    if (res.status !== 200) return fail(`${url} answered ${res.status}`, { hint });
    const type = res.headers.get('content-type') ?? '';
    const text = textOf(body);
    if (text === '') return fail(`${url} is empty`, { hint });
    const found = Object.entries(POLICY_TOPICS).filter(([, re]) => re.test(text)).map(([t]) => t);
    const details = [`content-type: ${type || '(none)'}`, `${text.length} characters of text`, `mentions: ${found.join(', ') || 'none of ' + Object.keys(POLICY_TOPICS).join(', ')}`];
    if (!type.includes('text/html')) return warn(`${url} answered 200 but as ${type || 'no content type'}, not an HTML page`, { details, hint: 'Serve the policy as text/html.' });
    if (!found.includes('location')) return warn(`${url} is published but does not mention location data`, { details, hint: 'Disclose that the GPT sends the customer\'s location (latitude/longitude) and how long it is kept.' });
    return pass(`${url}: 200 text/html, ${text.length} characters, mentions ${found.join(' and ')}`, { details });
  },
});
