// Every console page: sign-out (revokes the session, forgets the key in this browser).
import { clearKey, post } from "./keys.js";
import "./trace.js";

const out = document.getElementById("sign-out");
if (out) {
  out.addEventListener("click", async () => {
    const res = await post("/session/sign-out", {});
    await clearKey();
    window.location.assign((res.body && res.body.next) || "/?m=signed-out");
  });
}
