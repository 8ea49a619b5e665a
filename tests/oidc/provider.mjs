// A real OpenID Connect provider on loopback for the single sign-on tests (panva's oidc-provider,
// its development sign-in pages): usage `node provider.mjs PORT REDIRECT_URI`; prints "ready".
import Provider from "oidc-provider";

const [port, redirect] = [Number(process.argv[2]), process.argv[3]];
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: "gridwatch",
      client_secret: "gridwatch-test-secret",
      redirect_uris: [redirect],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: `SSO ${id}` };
      },
    };
  },
  claims: { openid: ["sub"], profile: ["name", "preferred_username"] },
  cookies: { keys: ["gridwatch-test-cookie-key"] },
});
provider.listen(port, "127.0.0.1", () => console.log("ready"));
