// Sign-in state of the studio page: the token from `#token=…` or the form, kept in sessionStorage.

const KEY = "studio.token";

/** The token to start with: a `#token=` fragment (then removed from the address bar) or the saved one. */
export function initialToken() {
  const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fragment) {
    save(fragment);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}

export const save = (token) => sessionStorage.setItem(KEY, token.trim());

/** Forgets the token and everything this tab kept for the tenant (the followed task). */
export function forget() {
  for (const key of Object.keys(sessionStorage)) if (key.startsWith("studio.")) sessionStorage.removeItem(key);
}
