// The agent console: every chat of the sandbox, live, and a way to answer as a human agent.
// Live events and sending go over a real agent socket (socket.io-client 2.x, Engine.IO 3,
// PROTOCOL.md §2–3) logged in as the sandbox's human agent; listing, joining, leaving and
// closing use the sandbox's HTTP control API.
(function () {
  'use strict';

  var TYPING_IDLE_MS = 2500;

  var els = {
    status: document.getElementById('status'),
    statusLabel: document.getElementById('status-label'),
    me: document.getElementById('me'),
    list: document.getElementById('chat-list'),
    noChats: document.getElementById('no-chats'),
    showClosed: document.getElementById('show-closed'),
    placeholder: document.getElementById('placeholder'),
    view: document.getElementById('chat-view'),
    title: document.getElementById('chat-title'),
    sub: document.getElementById('chat-sub'),
    join: document.getElementById('join'),
    leave: document.getElementById('leave'),
    close: document.getElementById('close'),
    transcript: document.getElementById('transcript'),
    visitorTyping: document.getElementById('visitor-typing'),
    visitorTypingLabel: document.getElementById('visitor-typing-label'),
    form: document.getElementById('composer'),
    input: document.getElementById('input'),
    send: document.getElementById('send'),
  };

  var session = null; // {agentId, authToken, accountKey} of the human agent
  var agents = Object.create(null); // id -> {nickname, fullname, role}
  var visitors = Object.create(null); // id -> visitor
  var chats = Object.create(null); // id -> {chat fields..., messages: [], visitorTyping, agentTyping}
  var order = []; // chat ids, newest activity first
  var selected = null;
  var socket = null;
  var online = false;
  var typingChat = null;
  var typingTimer = null;

  function setState(state, label) {
    els.status.dataset.state = state;
    els.statusLabel.textContent = label;
    online = state === 'online';
    updateComposer();
  }

  // ---- HTTP control API -------------------------------------------------------------------

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = (data && data.error) || {};
          throw new Error(error.message || (method + ' ' + path + ' answered ' + response.status));
        }
        return data;
      });
    });
  }

  function resync() {
    return Promise.all([api('GET', '/api/visitors'), api('GET', '/api/chats')]).then(function (results) {
      results[0].visitors.forEach(function (v) { visitors[v.id] = v; });
      results[1].chats.forEach(function (chat) { upsertChat(chat, true); });
      render();
    }).catch(function (err) { console.warn('resync failed', err); });
  }

  function fetchChat(chatId) {
    return api('GET', '/api/chats/' + encodeURIComponent(chatId)).then(function (data) {
      upsertChat(data.chat, true);
      render();
    }).catch(function (err) { console.warn('cannot load chat', chatId, err); });
  }

  // ---- state ------------------------------------------------------------------------------

  function upsertChat(chat, replaceMessages) {
    if (!chat || !chat.id) return null;
    var current = chats[chat.id];
    if (!current) {
      current = chats[chat.id] = { id: chat.id, messages: [], ids: Object.create(null), visitorTyping: false, agentTyping: false };
    }
    ['visitorId', 'status', 'assignedIds', 'createdAt', 'groupId'].forEach(function (key) {
      if (chat[key] !== undefined) current[key] = chat[key];
    });
    if (!current.assignedIds) current.assignedIds = [];
    if (Array.isArray(chat.messages)) {
      if (replaceMessages) { current.messages = []; current.ids = Object.create(null); }
      chat.messages.forEach(function (m) { addMessage(current, m); });
    }
    touch(chat.id);
    return current;
  }

  function addMessage(chat, message) {
    if (!message || (message.id && chat.ids[message.id])) return false;
    if (message.id) chat.ids[message.id] = true;
    chat.messages.push(message);
    return true;
  }

  function touch(chatId) {
    var index = order.indexOf(chatId);
    if (index >= 0) order.splice(index, 1);
    order.unshift(chatId);
  }

  function chatOf(data, fetchIfUnknown) {
    var chatId = data && (data.chatId || (data.chat && data.chat.id));
    if (!chatId) return null;
    if (!chats[chatId]) {
      upsertChat({ id: chatId, visitorId: data.visitorId, status: 'open', assignedIds: [] });
      if (fetchIfUnknown) fetchChat(chatId);
    }
    return chats[chatId];
  }

  // ---- events from the agent socket (PROTOCOL.md §3) ----------------------------------------

  var handlers = {
    'chat.opened': function (data) { upsertChat(data && data.chat, false); },
    'chat.updated': function (data) { var chat = chatOf(data, false); if (chat) fetchChat(chat.id); },
    'chat.message_received': function (data) {
      var chat = chatOf(data, true);
      if (!chat) return;
      var message = data.message || {};
      if (message.subType === 'contact') chat.visitorTyping = false;
      else chat.agentTyping = false;
      addMessage(chat, message);
      if (chat.status === 'closed') chat.status = 'open';
      touch(chat.id);
    },
    'chat.visitor_typing': function (data) {
      var chat = chatOf(data, true);
      if (chat) chat.visitorTyping = !!(data.typing && data.typing.is);
    },
    'chat.agent_typing': function (data) {
      var chat = chatOf(data, false);
      if (chat) chat.agentTyping = !!(data.typing && data.typing.is);
    },
    'chat.agent_joined': function (data) {
      var chat = chatOf(data, true);
      if (!chat) return;
      var agent = data.agent || {};
      if (agent.id && chat.assignedIds.indexOf(agent.id) < 0) chat.assignedIds = chat.assignedIds.concat([agent.id]);
      addMessage(chat, data.message || systemMessage((agent.nickname || 'An agent') + ' joined the chat'));
    },
    'chat.agent_left': function (data) {
      var chat = chatOf(data, true);
      if (!chat) return;
      var agent = data.agent || {};
      chat.assignedIds = chat.assignedIds.filter(function (id) { return id !== agent.id; });
      addMessage(chat, data.message || systemMessage((agent.nickname || 'An agent') + ' left the chat'));
    },
    'chat.agent_assigned': function (data) {
      var chat = chatOf(data, true);
      var agent = (data && data.assigned) || {};
      if (chat && agent.id && chat.assignedIds.indexOf(agent.id) < 0) chat.assignedIds = chat.assignedIds.concat([agent.id]);
    },
    'chat.agent_unassigned': function (data) {
      var chat = chatOf(data, true);
      var agent = (data && data.unassigned) || {};
      if (chat) chat.assignedIds = chat.assignedIds.filter(function (id) { return id !== agent.id; });
    },
    'chat.closed': function (data) {
      var chat = chatOf(data, false);
      if (!chat) return;
      chat.status = 'closed';
      chat.visitorTyping = chat.agentTyping = false;
      addMessage(chat, (data && data.message) || systemMessage('Chat closed'));
    },
    'chat.visitor_closed': function (data) { handlers['chat.closed'](data); },
    'chat.deleted': function (data) {
      var chatId = data && data.chatId;
      delete chats[chatId];
      order = order.filter(function (id) { return id !== chatId; });
      if (selected === chatId) selected = null;
    },
    'visitor.connected': function (data) {
      var visitor = data && (data.visitor || data);
      if (visitor && visitor.id) visitors[visitor.id] = visitor;
    },
    'visitor.updated': function (data) {
      if (!data || !data.id) return;
      var visitor = visitors[data.id] || (visitors[data.id] = { id: data.id });
      Object.keys(data.changes || {}).forEach(function (key) { visitor[key] = data.changes[key]; });
    },
    'agent.updated': function (data) {
      if (!data || !data.id) return;
      var agent = agents[data.id] || (agents[data.id] = { id: data.id });
      Object.keys(data.changes || {}).forEach(function (key) { agent[key] = data.changes[key]; });
    },
  };

  var localSeq = 0;
  function systemMessage(text) {
    localSeq += 1;
    return { id: 'local-' + localSeq, type: 'event', subType: 'system', content: { type: 'text', text: text } };
  }

  function dispatch(name, data) {
    if (name === 'bulk') {
      (Array.isArray(data) ? data : []).forEach(function (item) { if (item) dispatch(item.name, item.data); });
      return;
    }
    var handler = handlers[name];
    if (handler) handler(data);
  }

  // ---- rendering --------------------------------------------------------------------------

  function initials(name) {
    var parts = String(name || '?').trim().split(/\s+/);
    return ((parts[0] || '?')[0] + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
  }

  function visitorName(chat) {
    var visitor = visitors[chat.visitorId];
    if (visitor && visitor.name) return visitor.name;
    return 'Visitor ' + String(chat.visitorId || chat.id).slice(-4);
  }

  function agentLabel(agentId) {
    var agent = agents[agentId];
    if (!agent) return agentId || 'Agent';
    return agent.fullname || agent.nickname || agent.id;
  }

  // Chat event messages carry no text, only content.type and data (PROTOCOL.md §3 message).
  function describeEvent(message) {
    var content = message.content || {};
    var data = content.data || {};
    switch (content.type) {
      case 'agent_join': return agentLabel(data.agentId) + ' joined the chat';
      case 'agent_leave': return agentLabel(data.agentId) + ' left the chat';
      case 'chat_close':
        return 'Chat closed' + (data.agentId ? ' by ' + agentLabel(data.agentId) : data.closeType ? ' (' + data.closeType.replace(/_/g, ' ') + ')' : '');
      case 'rate_form':
        return 'Visitor rated the chat' + (data.value ? ' ' + data.value + '/5' : '') + (data.text ? ': “' + data.text + '”' : '');
      default: return content.text || '[' + (content.type || 'event') + ']';
    }
  }

  function isEvent(message) {
    return message.type === 'event' || message.subType === 'system';
  }

  function textOf(message) {
    if (isEvent(message)) return describeEvent(message);
    var content = message.content || {};
    return typeof content.text === 'string' ? content.text : '[' + (content.type || message.type || 'message') + ']';
  }

  function formatTime(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function renderList() {
    var showClosed = els.showClosed.checked;
    els.list.textContent = '';
    var shown = 0;
    order.forEach(function (chatId) {
      var chat = chats[chatId];
      if (!chat || (!showClosed && chat.status === 'closed' && chatId !== selected)) return;
      shown += 1;
      var li = document.createElement('li');
      li.className = 'chat-item' + (chatId === selected ? ' selected' : '');
      li.dataset.chatId = chatId;
      var avatar = document.createElement('span');
      avatar.className = 'avatar';
      avatar.textContent = initials(visitorName(chat));
      var name = document.createElement('span');
      name.className = 'name';
      name.textContent = visitorName(chat);
      var badge = document.createElement('span');
      badge.className = 'badge ' + (chat.status || '');
      badge.textContent = chat.status || 'open';
      var preview = document.createElement('span');
      preview.className = 'preview';
      if (chat.visitorTyping) {
        preview.classList.add('typing');
        preview.textContent = 'typing…';
      } else if (chat.agentTyping) {
        preview.classList.add('typing');
        preview.textContent = 'agent is typing…';
      } else {
        var last = chat.messages[chat.messages.length - 1];
        preview.textContent = last ? textOf(last) : 'No messages yet';
      }
      li.appendChild(avatar);
      li.appendChild(name);
      li.appendChild(badge);
      li.appendChild(preview);
      li.addEventListener('click', function () { select(chatId); });
      els.list.appendChild(li);
    });
    els.noChats.hidden = shown > 0;
  }

  function renderChat() {
    var chat = selected && chats[selected];
    els.placeholder.hidden = !!chat;
    els.view.hidden = !chat;
    if (!chat) return;
    var visitor = visitors[chat.visitorId] || {};
    els.title.textContent = visitorName(chat);
    var sub = [chat.status || 'open'];
    if (visitor.email) sub.push(visitor.email);
    if (visitor.pageUrl) sub.push('on ' + visitor.pageUrl);
    if (chat.assignedIds.length) sub.push('agents: ' + chat.assignedIds.map(agentLabel).join(', '));
    els.sub.textContent = sub.join(' · ');

    var joined = chat.assignedIds.indexOf(session && session.agentId) >= 0;
    els.join.hidden = joined;
    els.leave.hidden = !joined;
    els.join.disabled = chat.status === 'closed';
    els.close.disabled = chat.status === 'closed';

    var atBottom = els.transcript.scrollHeight - els.transcript.scrollTop - els.transcript.clientHeight < 40;
    els.transcript.textContent = '';
    chat.messages.forEach(function (message) {
      var li = document.createElement('li');
      if (isEvent(message)) {
        li.className = 'entry system';
        li.textContent = textOf(message);
      } else {
        var fromVisitor = message.subType === 'contact';
        var agent = agents[message.agentId] || {};
        li.className = 'entry ' + (fromVisitor ? 'visitor' : 'agent') + (agent.role === 'bot' || message.subType === 'bot' ? ' bot' : '');
        var who = document.createElement('div');
        who.className = 'who';
        who.textContent = (fromVisitor ? visitorName(chat) : agentLabel(message.agentId)) +
          (message.createdAt ? ' · ' + formatTime(message.createdAt) : '');
        var text = document.createElement('div');
        text.className = 'text';
        text.textContent = textOf(message);
        li.appendChild(who);
        li.appendChild(text);
      }
      if (message.id) li.dataset.messageId = message.id;
      els.transcript.appendChild(li);
    });
    if (atBottom) els.transcript.scrollTop = els.transcript.scrollHeight;

    els.visitorTyping.hidden = !(chat.visitorTyping || chat.agentTyping);
    els.visitorTypingLabel.textContent = chat.visitorTyping ? visitorName(chat) + ' is typing…' : 'An agent is typing…';
    updateComposer();
  }

  function render() {
    renderList();
    renderChat();
  }

  function select(chatId) {
    if (selected !== chatId) stopTyping();
    selected = chatId;
    render();
    els.transcript.scrollTop = els.transcript.scrollHeight;
    els.input.focus();
  }

  // ---- acting as the human agent ----------------------------------------------------------

  function updateComposer() {
    var chat = selected && chats[selected];
    els.send.disabled = !online || !chat || !els.input.value.trim();
    els.input.disabled = !chat;
  }

  function emitTyping(chat, isTyping) {
    if (!online || !chat) return;
    socket.emit('chat.typing', { chatId: chat.id, visitorId: chat.visitorId, typing: { is: isTyping } });
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingChat) {
      emitTyping(chats[typingChat], false);
      typingChat = null;
    }
  }

  els.input.addEventListener('input', function () {
    updateComposer();
    var chat = selected && chats[selected];
    if (!chat) return;
    if (!els.input.value.trim()) { stopTyping(); return; }
    if (typingChat !== chat.id) {
      stopTyping();
      typingChat = chat.id;
      emitTyping(chat, true);
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });

  function send() {
    var chat = selected && chats[selected];
    var text = els.input.value.replace(/\s+$/, '');
    if (!chat || !online || !text.trim()) return;
    els.input.value = '';
    updateComposer();
    socket.emit('chat.message', { chatId: chat.id, visitorId: chat.visitorId, content: { type: 'text', text: text } },
      function (err, message) {
        stopTyping();
        if (err) { alert('Not sent: ' + (err.message || JSON.stringify(err))); return; }
        if (message && addMessage(chat, message)) render();
      });
  }

  els.form.addEventListener('submit', function (event) { event.preventDefault(); send(); });
  els.input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
  });
  els.showClosed.addEventListener('change', renderList);

  function chatAction(action, body) {
    var chat = selected && chats[selected];
    if (!chat) return;
    api('POST', '/api/chats/' + encodeURIComponent(chat.id) + '/' + action, body)
      .then(function (data) {
        if (data.chat) upsertChat(data.chat, true);
        render();
      })
      .catch(function (err) { alert(action + ' failed: ' + err.message); });
  }
  els.join.addEventListener('click', function () { chatAction('join', { agentId: session.agentId }); });
  els.leave.addEventListener('click', function () { chatAction('leave', { agentId: session.agentId }); });
  els.close.addEventListener('click', function () { chatAction('close', { by: 'agent', agentId: session.agentId }); });

  // ---- the agent socket -------------------------------------------------------------------

  function connect() {
    socket = window.io(location.origin, {
      path: '/socket',
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
    });
    socket.on('connect', function () {
      // agent.connect must be the first request on every (re)connect (PROTOCOL.md §2).
      socket.emit('agent.connect', {
        version: 5,
        id: session.agentId,
        key: session.accountKey,
        authToken: session.authToken,
        trackVisitors: true,
      }, function (err, reply) {
        if (err) {
          setState('offline', 'Login failed');
          els.me.textContent = err.message || 'agent.connect failed';
          socket.close();
          return;
        }
        ((reply && reply.account && reply.account.agents) || []).forEach(function (agent) {
          agents[agent.id] = Object.assign(agents[agent.id] || {}, agent);
        });
        var me = (reply && reply.agent) || {};
        els.me.textContent = 'Signed in as ' + (me.nickname || me.fullname || session.agentId) + ' (human agent)';
        setState('online', 'Online');
        resync();
      });
    });
    socket.on('disconnect', function (reason) {
      setState(reason === 'io server disconnect' ? 'offline' : 'reconnecting',
        reason === 'io server disconnect' ? 'Offline' : 'Reconnecting…');
    });
    socket.on('reconnect_attempt', function () { setState('reconnecting', 'Reconnecting…'); });
    socket.on('reconnect_failed', function () { setState('offline', 'Offline'); });
    socket.on('logout', function () {
      setState('offline', 'Logged out');
      socket.close();
    });
    socket.on('server.error', function (data) { console.warn('server.error', data); });
    // socket.io-client 2.x has no catch-all listener: register every event we understand.
    Object.keys(handlers).concat(['bulk']).forEach(function (name) {
      socket.on(name, function (data) { dispatch(name, data); render(); });
    });
  }

  setState('connecting', 'Connecting…');
  Promise.all([api('GET', '/console/session'), api('GET', '/api/config')])
    .then(function (results) {
      session = results[0];
      (results[1].agents || []).forEach(function (agent) { agents[agent.id] = agent; });
      connect();
    })
    .catch(function (err) {
      setState('offline', 'Offline');
      els.me.textContent = 'Cannot reach the sandbox: ' + err.message;
    });
})();
