// A small scripted Smartsupp agent API on socket.io 2.x (Engine.IO 3 / Socket.IO 4), the
// generation of the vendor's own SDK. agentbot's client is tested against it because nobody
// here wrote it: a framing mistake shared by our client and our sandbox cannot hide.
//
// Usage: node smartsupp_server.js '{"agentId":"1","key":"k","authToken":"t","pingInterval":25000,"pingTimeout":20000}'
// stdout: one JSON object per line: {"type":"listening","port":N}, {"type":"received",...}, ...
// stdin:  one JSON command per line (see `commands` below).
'use strict';

const http = require('http');
const readline = require('readline');
const socketio = require('socket.io');

const config = Object.assign(
  { agentId: '345111', key: 'key', authToken: 'token', pingInterval: 25000, pingTimeout: 20000 },
  JSON.parse(process.argv[2] || '{}'),
);

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const server = http.createServer();
const io = socketio(server, {
  path: '/socket',
  transports: ['websocket'],
  pingInterval: config.pingInterval,
  pingTimeout: config.pingTimeout,
});

const state = { sockets: new Map(), dropAcks: new Set(), silenced: false };

const agent = {
  id: config.agentId, status: 'online', groups: [], email: 'bot@example.com',
  nickname: 'bot', fullname: 'Agent Bot', description: '', avatar: null,
  connectedAt: '2026-01-01T00:00:00.000Z', disabled: false,
};
const connectReply = {
  serverVersion: 3,
  agent,
  account: {
    agents: [agent, { id: '2', status: 'offline', nickname: 'human', fullname: 'A Human',
      description: '', avatar: null, groups: [] }],
    groups: [{ key: 'g1', name: 'Support' }],
  },
};

function error(event, type, message, code) {
  const err = { message, event, type };
  if (code !== undefined) err.code = code;
  return err;
}

function reply(socket, event, ack, err, result) {
  if (typeof ack !== 'function') return;
  if (state.dropAcks.has(event)) return;
  ack(err, result);
}

io.on('connection', (socket) => {
  state.sockets.set(socket.id, socket);
  socket.authenticated = false;
  out({ type: 'connection', sid: socket.id });

  // Record every incoming packet in arrival order, before any handler runs.
  socket.use((packet, next) => {
    const args = packet.slice(1).filter((a) => typeof a !== 'function');
    out({ type: 'received', sid: socket.id, event: packet[0], args });
    next();
  });

  socket.on('agent.connect', (data, ack) => {
    const ok = data && data.version === 5 && String(data.id) === config.agentId &&
      data.key === config.key && (data.authToken === config.authToken);
    if (!ok) {
      reply(socket, 'agent.connect', ack,
        error('agent.connect', 'auth_failure', 'Auth token is invalid'), null);
      return;
    }
    socket.authenticated = true;
    reply(socket, 'agent.connect', ack, null, connectReply);
  });

  const authed = (event, handler) => socket.on(event, (data, ack) => {
    if (!socket.authenticated) {
      reply(socket, event, ack,
        error(event, 'auth_error', 'Connection is not authenticated', 403), null);
      return;
    }
    handler(data, ack);
  });

  authed('agent.logout', (data, ack) => reply(socket, 'agent.logout', ack, null, true));
  authed('agent.track_visitors', () => {});
  authed('chat.typing', () => {});
  authed('chat.message', (data, ack) => {
    const message = {
      id: 'm' + Date.now(), type: 'message', subType: 'agent', chatId: data.chatId,
      visitorId: data.visitorId, agentId: config.agentId, createdAt: new Date().toISOString(),
      content: data.content,
    };
    reply(socket, 'chat.message', ack, null, message);
  });
  authed('visitor.get', (data, ack) => {
    if (data && data.id === 'missing') {
      reply(socket, 'visitor.get', ack, error('visitor.get', 'not_found', 'Visitor not found'), null);
    } else {
      reply(socket, 'visitor.get', ack, null, { id: data.id, name: 'Visitor', visits: 1, variables: {} });
    }
  });

  socket.on('disconnect', (reason) => {
    state.sockets.delete(socket.id);
    out({ type: 'disconnect', sid: socket.id, reason });
  });

  // Heartbeat fault: stop answering the client's pings (EIO 3: the client pings).
  const conn = socket.conn;
  const sendPacket = conn.sendPacket.bind(conn);
  conn.sendPacket = (type, ...rest) => {
    if (type === 'pong' && state.silenced) return undefined;
    return sendPacket(type, ...rest);
  };
});

const commands = {
  // Emit a server event to every connected agent socket.
  emit: (cmd) => { for (const s of state.sockets.values()) s.emit(cmd.name, ...(cmd.args || [])); },
  // Write a raw Engine.IO frame (e.g. a malformed one) to every socket.
  raw: (cmd) => { for (const s of state.sockets.values()) s.conn.transport.socket.send(cmd.frame); },
  // Kill every socket's TCP connection without any goodbye.
  drop: () => { for (const s of state.sockets.values()) s.conn.transport.socket.terminate(); },
  // Socket.IO disconnect of every socket.
  disconnect: () => { for (const s of state.sockets.values()) s.disconnect(true); },
  silence: (cmd) => { state.silenced = cmd.on !== false; },
  drop_acks: (cmd) => { state.dropAcks.add(cmd.event); },
  allow_acks: (cmd) => { state.dropAcks.delete(cmd.event); },
  exit: () => { io.close(); server.close(); process.exit(0); },
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  const fn = commands[cmd.cmd];
  if (!fn) { out({ type: 'error', message: 'unknown command ' + cmd.cmd }); return; }
  fn(cmd);
  out({ type: 'done', cmd: cmd.cmd, id: cmd.id });
});
process.stdin.on('end', () => process.exit(0));

server.listen(0, '127.0.0.1', () => out({ type: 'listening', port: server.address().port }));
