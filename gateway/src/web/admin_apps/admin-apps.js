// Browse App Catalog: suggestions as you type.
//
// The search box is a combobox; its suggestions are links to each entry's
// details page, plus "See all results" (the form's own submit, as tiles).
// Down moves from the box into the list, Up and Down move within it, Escape
// closes it and returns to the box. Without this script the form still
// works: it submits and the page shows the results as tiles.
//
// Entries come from /admin/apps/catalog/suggest as JSON and are drawn with
// textContent only, never as HTML.
(() => {
  'use strict';
  const input = document.getElementById('catalog-q');
  const box = document.getElementById('catalog-suggestions');
  const status = document.getElementById('catalog-suggestions-status');
  if (!input || !box || !status) return;

  let timer = null;
  let latest = 0;

  const links = () => Array.from(box.querySelectorAll('a'));

  function close() {
    box.hidden = true;
    box.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
  }

  function draw(q, apps, all) {
    box.replaceChildren();
    const list = document.createElement('ul');
    list.setAttribute('aria-label', 'Suggestions');
    for (const app of apps) {
      const item = document.createElement('li');
      const a = document.createElement('a');
      a.href = app.href;
      a.textContent = app.label;
      item.append(a);
      list.append(item);
    }
    const item = document.createElement('li');
    item.className = 'see-all';
    const a = document.createElement('a');
    a.href = all;
    a.textContent = `See all results for “${q}”`;
    item.append(a);
    list.append(item);
    box.append(list);
    box.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    status.textContent = apps.length === 0
      ? 'No suggestions.'
      : `${apps.length} suggestion${apps.length === 1 ? '' : 's'}. Press the Down arrow to choose.`;
  }

  async function suggest() {
    const q = input.value.trim();
    const mine = ++latest;
    if (q === '') {
      close();
      status.textContent = '';
      return;
    }
    try {
      const r = await fetch(`/admin/apps/catalog/suggest?q=${encodeURIComponent(q)}`, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!r.ok || mine !== latest) return;
      const body = await r.json();
      if (mine !== latest) return;
      draw(q, body.apps, body.all);
    } catch {
      // Offline or signed out: the form still submits normally.
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 120);
  });

  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && !box.hidden) {
      const first = links()[0];
      if (first) {
        e.preventDefault();
        first.focus();
      }
    } else if (e.key === 'Escape' && !box.hidden) {
      e.preventDefault();
      close();
    }
  });

  box.addEventListener('keydown', (e) => {
    const all = links();
    const i = all.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      all[Math.min(i + 1, all.length - 1)]?.focus();
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (i <= 0) input.focus();
      else all[i - 1].focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
      input.focus();
    }
  });

  // Clicking or tabbing elsewhere closes the list.
  document.addEventListener('focusin', (e) => {
    if (e.target !== input && !box.contains(e.target)) close();
  });
})();

// SAML form: "Or choose the SP's metadata file" reads the chosen file into
// the metadata box, to be imported and reviewed as if it had been pasted.
// The file is read here, in the browser; the form posts the text as usual.
(() => {
  'use strict';
  const box = document.getElementById('spMetadata-file-box');
  const picker = document.getElementById('spMetadata-file');
  const status = document.getElementById('spMetadata-file-status');
  const target = document.getElementById('f-spMetadata');
  if (!box || !picker || !status || !target) return;
  const max = Number(box.dataset.maxBytes) || 0;
  box.hidden = false;

  picker.addEventListener('change', () => {
    const file = picker.files && picker.files[0];
    if (!file) return;
    if (max && file.size > max) {
      status.textContent = `${file.name} is larger than ${Math.floor(max / 1024)} KiB; choose the SP's own metadata document.`;
      return;
    }
    file.text().then(
      (text) => {
        target.value = text;
        status.textContent = `Read ${file.name} into the box above. Choose "Import and review" to fill in the form.`;
      },
      () => {
        status.textContent = `${file.name} could not be read.`;
      },
    );
  });
})();
