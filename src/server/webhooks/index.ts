// webhooks: the /api/webhook receiver. It recognises the Git server from the headers (GitHub, GitLab, Gitea,
// Gogs, Bitbucket Cloud, Bitbucket Server, and Tack's generic HMAC flavour), authenticates the request with
// that flavour's secret (an unconfigured flavour is refused: nothing unsigned is ever accepted), caps the
// body, and turns a push into {repoURLs, revisions, changedFiles} for the caller, which decides which
// Applications to refresh and coalesces bursts.
//
// Must not import: cluster/, controller/, anything that reads process.env. Secrets come in through a
// function so that a rotated Secret is read on the next request; they are never logged.
export { createWebhookHandler, DEFAULT_MAX_BODY_BYTES, type WebhookHandler, type WebhookHandlerOptions } from "./handler.ts";
export { detectFlavour, flavours, refName, type Flavour, type FlavourName, type Push, type WebhookSecrets } from "./flavours.ts";
export { hmacSha256Hex, safeEqual, verifyHmacSha256 } from "./verify.ts";
