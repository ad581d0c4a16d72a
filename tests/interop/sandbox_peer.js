// A client peer for agentbot's sandbox tests, nobody here wrote its protocol code:
//   role "agent":   socket.io-client 2.x (Engine.IO 3 / Socket.IO 4), as Smartsupp's agents use
//   role "visitor": Smartsupp's official smartsupp-websocket VisitorClient (socket.io-client 2.x)
//
// Usage: node sandbox_peer.js '{"role":"agent","url":"http://127.0.0.1:N"}'
//        node sandbox_peer.js '{"role":"visitor","url":"http://127.0.0.1:N","data":{"id":null,"key":"k"}}'
// stdout: one JSON object per line:
//   {"type":"connect"}, {"type":"disconnect","reason"}, {"type":"event","name","data"},
//   {"type":"result","id","error","result"}  (answer to a command with an id)
// stdin: one JSON command per line:
//   agent:   {"cmd":"emit","name","data"} | {"cmd":"call","id","name","data"} | {"cmd":"close"}
//   visitor: {"cmd":"connect","id"} | {"cmd":"message","id","text"} | {"cmd":"typing","is"}
//            | {"cmd":"read"} | {"cmd":"close_chat","id"} | {"cmd":"rate","id","messageId","value","text"}
//            | {"cmd":"update","values"} | {"cmd":"close"}
'use strict';

const readline = require('readline');

const config = JSON.parse(process.argv[2] || '{}');
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const errorOf = (err) => (err ? { message: err.message, type: err.type, code: err.code, event: err.event } : null);

function startAgent() {
  const io = require('socket.io-client');
  const socket = io(config.url, {
    path: '/socket',
    transports: ['websocket'],
    forceNew: true,
    reconnection: config.reconnection !== false,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
  });
  socket.on('connect', () => out({ type: 'connect' }));
  socket.on('disconnect', (reason) => out({ type: 'disconnect', reason }));
  // socket.io-client 2.x has no catch-all listener: wrap onevent to see every event.
  const onevent = socket.onevent;
  socket.onevent = function (packet) {
    const [name, data] = packet.data || [];
    out({ type: 'event', name, data: data === undefined ? null : data });
    onevent.call(this, packet);
  };
  return {
    emit: (c) => socket.emit(c.name, c.data),
    call: (c) => socket.emit(c.name, c.data, (error, result) => out({ type: 'result', id: c.id, error, result })),
    close: () => {
      socket.close();
      process.exit(0);
    },
  };
}

function startVisitor() {
  const sdk = require('smartsupp-websocket');
  const client = sdk.createVisitorClient({
    data: config.data,
    connection: { url: config.url, options: { reconnection: config.reconnection !== false, reconnectionDelay: 50 } },
  });
  client.on('connect', () => out({ type: 'connect' }));
  client.on('disconnect', (reason) => out({ type: 'disconnect', reason }));
  for (const name of [
    'chat.message_received', 'chat.agent_typing', 'chat.closed', 'chat.rated', 'chat.contact_read',
    'chat.agent_joined', 'chat.agent_left', 'visitor.updated', 'account.updated', 'agent.updated',
  ]) {
    client.on(name, (data) => out({ type: 'event', name, data: data === undefined ? null : data }));
  }
  client.on('error', (err) => out({ type: 'event', name: 'error', data: errorOf(err) }));
  const answer = (id, promise) => promise.then(
    (result) => out({ type: 'result', id, error: null, result: result === undefined ? null : result }),
    (err) => out({ type: 'result', id, error: errorOf(err), result: null }),
  );
  return {
    connect: (c) => answer(c.id, client.connect()),
    message: (c) => answer(c.id, client.chatMessage({ content: { type: 'text', text: c.text } })),
    typing: (c) => client.chatTyping(c.is),
    read: () => client.chatRead(),
    close_chat: (c) => answer(c.id, client.chatClose()),
    rate: (c) => answer(c.id, client.chatRate({ messageId: c.messageId, value: c.value, text: c.text })),
    update: (c) => client.updateVisitorIdentity(c.values),
    close: () => client.disconnect().then(() => process.exit(0)),
  };
}

const commands = config.role === 'visitor' ? startVisitor() : startAgent();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  const run = commands[command.cmd];
  if (!run) {
    out({ type: 'result', id: command.id, error: { message: 'unknown command ' + command.cmd }, result: null });
    return;
  }
  run(command);
});
process.stdin.on('end', () => process.exit(0));
