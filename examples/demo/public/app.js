// Vanilla demo page: connection status and a room broadcast between tabs.
const { createClient } = window.Syncline

const client = createClient({ url: window.SYNCLINE_URL })
const room = client.join('demo')

const statusEl = document.getElementById('status')
const roomStatusEl = document.getElementById('room-status')
const userEl = document.getElementById('user')
const messagesEl = document.getElementById('messages')

client.status.subscribe((status) => {
  const failure = client.failure.get()
  statusEl.textContent = failure ? `${status}: ${failure.reason}` : status
  statusEl.dataset.status = status
})
client.userId.subscribe((userId) => {
  userEl.textContent = userId ?? '…'
})
room.status.subscribe((status) => {
  roomStatusEl.textContent = status
})

function addMessage(text, from, mine) {
  const li = document.createElement('li')
  li.className = mine ? 'mine' : ''
  const who = document.createElement('span')
  who.className = 'who'
  who.textContent = mine ? 'you' : from
  li.append(who, document.createTextNode(` ${text}`))
  messagesEl.prepend(li)
}

room.on('event', ({ event, payload, userId }) => {
  if (event === 'message') addMessage(String(payload.text), userId, false)
})

document.getElementById('send').addEventListener('submit', (e) => {
  e.preventDefault()
  const input = document.getElementById('text')
  const text = input.value.trim()
  if (!text) return
  room.broadcast('message', { text })
  addMessage(text, 'you', true)
  input.value = ''
})
