// The reference connection panel, drawn from the component's describe()
// alone: API types, environments, regions, the auth kinds each API type
// allows, their fields, the API type's settings (with `show_when`) and the
// common settings. Secret fields are password inputs, never filled back.
// Nothing here names a Klarna API type, field or entity.

const manifest = await (await fetch('/api/describe')).json();
const panel = manifest.panel;
const form = document.querySelector('#connection');
const status = document.querySelector('#status');
const byId = (list, id) => list.find((item) => item.id === id);

document.querySelector('#title').textContent = manifest.name;
document.querySelector('#subtitle').textContent = manifest.description ?? '';
document.title = `${manifest.name}: connection`;

/** An element with attributes and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === undefined || value === null) continue;
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.filter(Boolean));
  return node;
}

/** A labelled select over `choices` ({id, label}). */
function choice(key, label, choices, help) {
  const id = `c-${key}`;
  const select = el('select', { id, name: key });
  for (const c of choices) select.append(el('option', { value: c.id, text: c.label }));
  return el('div', { class: 'field', 'data-key': key }, el('label', { for: id, text: label }), select,
    help && el('p', { class: 'description', id: `${id}-help`, text: help }));
}

/**
 * One manifest setting (an auth kind's field, an API type's setting or a
 * common one) as a labelled control with its help text and an error slot.
 */
function settingField(setting, group) {
  const id = `f-${group}-${setting.key}`;
  const attributes = { id, name: setting.key, 'data-group': group, 'aria-describedby': `${id}-help ${id}-error` };
  let control;
  if (setting.type === 'key_value_list' && !setting.secret) {
    control = el('textarea', { ...attributes, rows: 2, spellcheck: 'false' });
  } else {
    control = el('input', {
      ...attributes,
      type: setting.secret ? 'password' : setting.type === 'integer' ? 'number' : setting.type === 'https_url' ? 'url' : 'text',
      autocomplete: setting.secret ? 'new-password' : 'off',
      min: setting.min, max: setting.max, step: setting.type === 'integer' ? 1 : undefined,
    });
  }
  if (!setting.secret && setting.default !== undefined) control.value = setting.default;
  if (setting.required) control.required = true;
  const range = setting.type === 'integer' && setting.min !== undefined ? ` (${setting.min} to ${setting.max})` : '';
  return el('div', { class: 'field', 'data-key': setting.key, 'data-group': group, 'data-secret': setting.secret || undefined },
    el('label', { for: id }, setting.label, setting.required && el('span', { class: 'required', title: 'required', text: '*' })),
    control,
    el('p', { class: 'help', id: `${id}-help`, text: setting.help + (setting.help.includes(range.trim()) ? '' : range) }),
    el('p', { class: 'error', id: `${id}-error`, hidden: true }));
}

const basics = document.querySelector('#basics');
basics.append(
  choice('api_type', 'API type', panel.api_types, panel.api_types[0].description),
  choice('environment', 'Environment', panel.environments),
  choice('region', 'Region', panel.regions),
  choice('auth_kind', 'Authentication', []),
);
const apiTypeSelect = form.elements.api_type;
const authSelect = form.elements.auth_kind;
const advanced = document.querySelector('#advanced');
for (const setting of panel.common_settings) advanced.append(settingField(setting, 'setting'));

const apiType = () => byId(panel.api_types, apiTypeSelect.value);
const authKind = () => byId(panel.auth_kinds, authSelect.value);

/** The auth kinds of the chosen API type, keeping the chosen one if it is allowed. */
function drawAuthKinds() {
  const type = apiType();
  document.querySelector('#c-api_type-help').textContent = type.description;
  const previous = authSelect.value;
  authSelect.replaceChildren(...type.auth.map((id) => el('option', { value: id, text: byId(panel.auth_kinds, id).label })));
  if (type.auth.includes(previous)) authSelect.value = previous;
  drawFields();
}

/** The chosen auth kind's fields and the API type's settings it shows. */
function drawFields() {
  const type = apiType();
  const kind = authKind();
  const credentials = document.querySelector('#credentials');
  credentials.replaceChildren(el('legend', { text: kind.label }), ...kind.fields.map((f) => settingField(f, 'credential')));
  const shown = type.settings.filter((s) => !s.show_when || s.show_when.auth.includes(kind.id));
  const settings = document.querySelector('#settings');
  settings.replaceChildren(el('legend', { text: `${type.label}: settings` }), ...shown.map((s) => settingField(s, 'setting')));
  settings.hidden = shown.length === 0;
  clearResult();
}

apiTypeSelect.addEventListener('change', drawAuthKinds);
authSelect.addEventListener('change', drawFields);
drawAuthKinds();

/** The manifest entry behind a drawn field. */
function settingOf(field) {
  const key = field.dataset.key;
  if (field.dataset.group === 'credential') return authKind().fields.find((f) => f.key === key);
  return apiType().settings.find((s) => s.key === key) ?? panel.common_settings.find((s) => s.key === key);
}

function showError(field, message) {
  field.classList.add('invalid');
  const slot = field.querySelector('.error');
  slot.textContent = message;
  slot.hidden = false;
}

function clearErrors() {
  for (const field of form.querySelectorAll('.field.invalid')) field.classList.remove('invalid');
  for (const slot of form.querySelectorAll('.error')) { slot.textContent = ''; slot.hidden = true; }
}

/** The manifest's rules, checked before anything is sent: required, whole numbers, ranges. */
function validate(field) {
  const setting = settingOf(field);
  const value = field.querySelector('input, textarea').value.trim();
  if (!value) return setting.required ? 'Required.' : null;
  if (setting.type === 'integer') {
    if (!/^\d+$/.test(value)) return 'A whole number.';
    const number = Number(value);
    if ((setting.min !== undefined && number < setting.min) || (setting.max !== undefined && number > setting.max)) {
      return `Out of range: from ${setting.min} to ${setting.max}.`;
    }
  }
  return null;
}

const drawnFields = () => [...form.querySelectorAll('.field[data-group]')].filter((f) => !f.closest('[hidden]'));

function setStatus(text, kind) {
  status.textContent = text;
  status.className = kind;
}

function clearResult() {
  document.querySelector('#entities').hidden = true;
  document.querySelector('#records').replaceChildren();
  setStatus('', '');
}

/** Secrets are write-only: after a submission their inputs are emptied, never filled back. */
function forgetSecrets(saved) {
  for (const field of form.querySelectorAll('.field[data-secret]')) {
    const control = field.querySelector('input, textarea');
    control.value = '';
    control.placeholder = saved ? 'Saved (write-only): type a new value to replace it' : '';
  }
}

/** The field an error message names (`settings.<key>: …`, `auth.<variant>.<part>: …`). */
function fieldNamedBy(message) {
  const path = message.split(':')[0];
  const [root, a, b] = path.split('.');
  if (root === 'settings') return form.querySelector(`.field[data-group="setting"][data-key="${CSS.escape(a)}"]`);
  if (root === 'auth' && b) {
    const template = authKind().wit[b] ?? '';
    const key = /\{([^}]+)\}/.exec(template)?.[1];
    if (key) return form.querySelector(`.field[data-group="credential"][data-key="${CSS.escape(key)}"]`);
  }
  return null;
}

/** What an error says to do: its case, the message naming the field or Klarna's first message, and Klarna's details. */
function describeError(error) {
  const details = [
    error.status && `HTTP ${error.status}`,
    error.code,
    error.correlation_id && `correlation id ${error.correlation_id}`,
  ].filter(Boolean);
  return `${error.case}: ${error.message}${details.length ? ` (${details.join(', ')})` : ''}`;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  clearResult();
  const invalid = drawnFields().map((field) => [field, validate(field)]).filter(([, message]) => message);
  for (const [field, message] of invalid) showError(field, message);
  if (invalid.length) {
    setStatus(`Nothing was sent: ${invalid.length === 1 ? 'one field needs' : `${invalid.length} fields need`} attention.`, 'bad');
    invalid[0][0].querySelector('input, textarea').focus();
    return;
  }
  const values = (group) => Object.fromEntries(drawnFields()
    .filter((f) => f.dataset.group === group)
    .map((f) => [f.dataset.key, f.querySelector('input, textarea').value.trim()]));
  const body = {
    api_type: apiTypeSelect.value,
    environment: form.elements.environment.value,
    region: form.elements.region.value,
    auth_kind: authSelect.value,
    fields: values('credential'),
    settings: values('setting'),
  };
  const button = document.querySelector('#test');
  button.disabled = true;
  setStatus('Testing…', '');
  try {
    const answer = await (await fetch('/api/connections', { method: 'POST', body: JSON.stringify(body) })).json();
    forgetSecrets(answer.ok);
    if (answer.ok) {
      const checked = apiType().test?.checks ?? 'nothing is called at Klarna for this API type; the connection\u2019s own settings were checked';
      setStatus(`Connection works. test() checked: ${checked}.`, 'ok');
      drawEntities(answer.connection, answer.entities);
    } else {
      const error = answer.error;
      const field = error.case === 'invalid-config' || error.case === 'invalid-input' ? fieldNamedBy(error.message) : null;
      if (field) showError(field, error.message.slice(error.message.indexOf(':') + 1).trim());
      setStatus(`${answer.step === 'open' ? 'The connection was refused' : 'test() failed'}: ${describeError(error)}`, 'bad');
    }
  } catch (failure) {
    forgetSecrets(false);
    setStatus(`The panel's server did not answer: ${failure}`, 'bad');
  } finally {
    button.disabled = false;
  }
});

/** The API type's entities; a readable one can show its first page. */
function drawEntities(connection, entities) {
  const list = document.querySelector('#entity-list');
  list.replaceChildren(...entities.map((entity) => {
    const read = entity.operations.find((o) => o.method === 'GET');
    const params = read ? [...read.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]) : [];
    const inputs = params.map((p) => el('input', { 'data-param': p, placeholder: p, 'aria-label': `${entity.label}: ${p}` }));
    const button = read && el('button', { type: 'button', 'data-entity': entity.name, text: 'First page' });
    button?.addEventListener('click', () => readFirstPage(connection, entity, inputs));
    return el('div', { class: 'entity', 'data-entity': entity.name, title: entity.description },
      el('strong', { text: entity.label }), el('code', { text: entity.name }),
      el('span', { class: 'ops', text: entity.operations.map((o) => `${o.method} ${o.path}`).join(' · ') }),
      ...inputs, button);
  }));
  document.querySelector('#entities').hidden = false;
}

async function readFirstPage(connection, entity, inputs) {
  const records = document.querySelector('#records');
  records.replaceChildren(el('p', { text: `Reading ${entity.label}…` }));
  const path = Object.fromEntries(inputs.filter((i) => i.value.trim()).map((i) => [i.dataset.param, i.value.trim()]));
  const answer = await (await fetch('/api/page', { method: 'POST', body: JSON.stringify({ connection, entity: entity.name, path }) })).json();
  if (!answer.ok) {
    records.replaceChildren(el('p', { class: 'bad', role: 'alert', text: describeError(answer.error) }));
    return;
  }
  records.replaceChildren(el('h3', { text: `${entity.label}: ${answer.records.length} records${answer.more ? ' (first page)' : ''}` }), recordTable(answer.records));
}

/** Records as a table: one column per top-level field, nested values as JSON. */
function recordTable(records) {
  const rows = records.map((r) => (r && typeof r === 'object' && !Array.isArray(r) ? r : { value: r }));
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (value) => {
    if (value === undefined || value === null) return '';
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  };
  return el('table', { id: 'record-table' },
    el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { text: c })))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...columns.map((c) => el('td', { text: cell(r[c]) }))))));
}
