// The official `twilio` client for the account whose credentials `vars` hold (TWILIO_ACCOUNT_SID
// and TWILIO_AUTH_TOKEN), aimed at the local emulator when TWILIO_API_BASE is set: what
// `npm run deploy` and `npm run doctor` call Twilio with.
import twilio from 'twilio';

export function accountClient(vars) {
  const client = twilio(vars.TWILIO_ACCOUNT_SID, vars.TWILIO_AUTH_TOKEN);
  if (vars.TWILIO_API_BASE) client.conversations.baseUrl = client.chat.baseUrl = vars.TWILIO_API_BASE.replace(/\/$/, '');
  return client;
}
