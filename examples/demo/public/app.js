// Vanilla demo page: connection status, presence avatars, live interpolated cursors and a
// room broadcast between tabs — all from the <script>-tag bundle (global `Syncline`).
const { createClient, createCursorInterpolator } = window.Syncline

const names = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken']
const colors = ['#e8590c', '#2f9e44', '#1971c2', '#9c36b5', '#c2255c', '#0c8599', '#f08c00']
const pick = (list) => list[Math.floor(Math.random() * list.length)]
const me = { name: pick(names), color: pick(colors) }

const client = createClient({ url: window.SYNCLINE_URL })
const room = client.join('demo', { presence: { ...me, cursor: null } })

const $ = (id) => document.getElementById(id)

client.status.subscribe((status) => {
  const failure = client.failure.get()
  $('status').textContent = failure ? `${status}: ${failure.reason}` : status
  $('status').dataset.status = status
})
client.userId.subscribe((userId) => {
  $('user').textContent = userId ? `${me.name} (${userId})` : '…'
})
room.status.subscribe((status) => {
  $('room-status').textContent = status
})

/** One interpolated cursor per remote connection (a user with two tabs has two cursors). */
const cursors = new Map()
const board = $('board')

// --- Presence: avatars ------------------------------------------------------------------
function avatar(presence, label) {
  const el = document.createElement('span')
  el.className = 'avatar'
  el.style.background = presence.color ?? '#868e96'
  el.textContent = (presence.name ?? '?').slice(0, 1)
  el.title = label
  return el
}

room.others.subscribe((others) => {
  const count = others.length + 1
  $('count').textContent = `${count} ${count === 1 ? 'person' : 'people'} here`
  const avatars = [avatar(me, `${me.name} (you)`)]
  for (const peer of others) {
    const tabs = peer.connections.length
    avatars.push(avatar(peer.presence, `${peer.presence.name}${tabs > 1 ? ` (${tabs} tabs)` : ''}`))
  }
  $('avatars').replaceChildren(...avatars)
  renderCursors(others)
})

// --- Presence: live cursors -------------------------------------------------------------
board.addEventListener('pointermove', (event) => {
  const rect = board.getBoundingClientRect()
  // Relative coordinates, so windows of different sizes agree on where a cursor is.
  const x = (event.clientX - rect.left) / rect.width
  const y = (event.clientY - rect.top) / rect.height
  room.updatePresence({ cursor: { x, y } }) // throttled to 20 updates/s by the SDK
})
board.addEventListener('pointerleave', () => room.updatePresence({ cursor: null }))

function renderCursors(others) {
  const live = new Set()
  for (const peer of others) {
    for (const connection of peer.connections) {
      const { cursor, name, color } = connection.presence
      if (!cursor) continue
      live.add(connection.connectionId)
      let entry = cursors.get(connection.connectionId)
      if (!entry) {
        const el = document.createElement('div')
        el.className = 'cursor'
        board.append(el)
        const interpolator = createCursorInterpolator({
          mode: 'spline',
          onFrame: ({ x, y }) => {
            el.style.transform = `translate(${x * board.clientWidth}px, ${y * board.clientHeight}px)`
          },
        })
        entry = { el, interpolator }
        cursors.set(connection.connectionId, entry)
      }
      entry.el.style.setProperty('--color', color ?? '#868e96')
      entry.el.dataset.name = name ?? '?'
      entry.interpolator.push(cursor)
    }
  }
  for (const [connectionId, entry] of cursors) {
    if (live.has(connectionId)) continue
    entry.interpolator.dispose() // cancels its animation frame
    entry.el.remove()
    cursors.delete(connectionId)
  }
}

// --- Broadcast ----------------------------------------------------------------------------
function addMessage(text, from, mine) {
  const li = document.createElement('li')
  li.className = mine ? 'mine' : ''
  const who = document.createElement('span')
  who.className = 'who'
  who.textContent = mine ? 'you' : from
  li.append(who, document.createTextNode(` ${text}`))
  $('messages').prepend(li)
}

function nameOf(userId) {
  const peer = room.others.get().find((p) => p.userId === userId)
  return peer?.presence.name ?? userId
}

room.on('event', ({ event, payload, userId }) => {
  if (event === 'message') addMessage(String(payload.text), nameOf(userId), false)
})

$('send').addEventListener('submit', (e) => {
  e.preventDefault()
  const input = $('text')
  const text = input.value.trim()
  if (!text) return
  room.broadcast('message', { text })
  addMessage(text, 'you', true)
  input.value = ''
})

// --- Shared document (Yjs): a todo list and a text area -----------------------------------
// The room's Y.Doc is synced with the server (stored in SQLite by the demo server). Edits made
// offline stay in the doc and reach the others after reconnect.
const doc = room.doc
const todos = doc.getMap('todos') // id → { text, done, at }: plain values, last writer wins per todo
const notes = doc.getText('notes')

function docState() {
  const pending = room.hasPendingWrites.get()
  $('doc-state').textContent =
    room.status.get() !== 'synced' ? 'syncing…' : pending ? 'saving…' : 'saved'
}
room.status.subscribe(docState)
room.hasPendingWrites.subscribe(docState)

function renderTodos() {
  const items = [...todos.entries()].sort(([, a], [, b]) => a.at - b.at)
  $('todos').replaceChildren(
    ...items.map(([id, todo]) => {
      const li = document.createElement('li')
      li.className = todo.done ? 'todo done' : 'todo'
      const box = document.createElement('input')
      box.type = 'checkbox'
      box.checked = todo.done
      box.addEventListener('change', () => todos.set(id, { ...todo, done: box.checked }))
      const label = document.createElement('span')
      label.textContent = todo.text
      const remove = document.createElement('button')
      remove.className = 'remove'
      remove.textContent = '×'
      remove.title = 'Delete'
      remove.addEventListener('click', () => todos.delete(id))
      li.append(box, label, remove)
      return li
    }),
  )
}
todos.observe(renderTodos)
renderTodos()

$('todo-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const input = $('todo-text')
  const text = input.value.trim()
  if (!text) return
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  todos.set(id, { text, done: false, at: Date.now() })
  input.value = ''
})

// A minimal textarea binding: local input becomes one delete + insert at the changed range;
// remote changes move the caret with the text around it.
const area = $('notes')
area.value = notes.toString()
let lastValue = area.value

area.addEventListener('input', () => {
  const next = area.value
  let start = 0
  while (start < next.length && start < lastValue.length && next[start] === lastValue[start])
    start++
  let endOld = lastValue.length
  let endNew = next.length
  while (endOld > start && endNew > start && lastValue[endOld - 1] === next[endNew - 1]) {
    endOld--
    endNew--
  }
  doc.transact(() => {
    if (endOld > start) notes.delete(start, endOld - start)
    if (endNew > start) notes.insert(start, next.slice(start, endNew))
  })
  lastValue = next
})

notes.observe((event, transaction) => {
  if (transaction.local) return
  let selStart = area.selectionStart
  let selEnd = area.selectionEnd
  let index = 0
  for (const op of event.delta) {
    if (op.retain) index += op.retain
    else if (op.insert) {
      const length = op.insert.length
      if (index <= selStart) selStart += length
      if (index <= selEnd) selEnd += length
      index += length
    } else if (op.delete) {
      if (index < selStart) selStart -= Math.min(op.delete, selStart - index)
      if (index < selEnd) selEnd -= Math.min(op.delete, selEnd - index)
    }
  }
  area.value = notes.toString()
  lastValue = area.value
  if (document.activeElement === area) area.setSelectionRange(selStart, selEnd)
})
