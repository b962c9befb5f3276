// The API with the read token from sessionStorage (never in a URL, never in localStorage).
export const token = () => sessionStorage.getItem('netloom-token') || '';

export async function api(path) {
  const r = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
  if (r.status === 401) {
    sessionStorage.removeItem('netloom-token');
    document.getElementById('login').style.display = 'flex';
    throw new Error('unauthorized');
  }
  const body = await r.json();
  if (!r.ok) throw new Error(body.message || `${r.status}`);
  return body;
}

/** A file behind the token (a capture's pcap) saved through a blob: a plain link could not send the header. */
export async function download(path, filename) {
  const r = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
  if (!r.ok) throw new Error(`${r.status}`);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
