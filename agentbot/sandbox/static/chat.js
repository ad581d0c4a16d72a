// The visitor chat page. It speaks to the sandbox only through Smartsupp's official visitor SDK
// (window.SmartsuppWebsocket, vendored), so what works here works with a real widget client.
// PROTOCOL.md §4 is the contract: visitor.connect, chat.message, chat.typing, chat.read out;
// chat.message_received, chat.agent_typing, chat.agent_joined/left, chat.closed in.
(function () {
  'use strict';

  var STORAGE_KEY = 'agentbot-sandbox-visitor-id';
  var VISITOR_TYPING_IDLE_MS = 2500;
  // A typing indicator nobody switches off (lost event, crashed agent) must not stay forever.
  var AGENT_TYPING_STALE_MS = 60000;

  var els = {
    status: document.getElementById('status'),
    statusLabel: document.getElementById('status-label'),
    availability: document.getElementById('availability'),
    messages: document.getElementById('messages'),
    empty: document.getElementById('empty-hint'),
    typing: document.getElementById('typing'),
    typingLabel: document.getElementById('typing-label'),
    typingAvatar: document.getElementById('typing-avatar'),
    form: document.getElementById('composer'),
    input: document.getElementById('input'),
    send: document.getElementById('send'),
  };

  var STATE_LABELS = {
    connecting: 'Connecting…',
    online: 'Online',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  };

  var client = null;
  var ready = false; // visitor.connect answered at least once: SDK methods may be called
  var seen = Object.create(null); // message ids already on screen
  var pending = []; // {text, li} of visitor messages not yet acknowledged
  var lastSender = null; // key of the sender of the last bubble, to group consecutive ones
  var lastAgentId = null; // who wrote last: chat.agent_typing does not say who is typing
  var typingTimer = null;
  var visitorTypingTimer = null;
  var visitorTyping = false;

  // ---- connection state -------------------------------------------------------------------

  function setState(state) {
    els.status.dataset.state = state;
    els.statusLabel.textContent = STATE_LABELS[state];
    document.body.dataset.connection = state;
    updateSendButton();
  }

  function setAvailability(accountStatus) {
    els.availability.textContent = accountStatus === 'online'
      ? 'We usually reply within a minute'
      : 'Nobody is online — leave a message';
  }

  // ---- rendering --------------------------------------------------------------------------

  function initials(name) {
    var parts = String(name || '?').trim().split(/\s+/);
    return ((parts[0] || '?')[0] + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
  }

  // One name per agent everywhere (bubbles, typing, join/leave lines): nickname, else full
  // name, else "Agent" when the page cannot tell who it is.
  function agentName(agentId) {
    var agent = client && agentId ? client.getAgent(agentId) : null;
    if (agent) return agent.nickname || agent.fullname || 'Agent';
    return 'Agent';
  }

  function formatTime(iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) date = new Date();
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function scrollToEnd() {
    els.messages.scrollTop = els.messages.scrollHeight;
  }

  function hideEmptyHint() {
    if (els.empty && els.empty.parentNode) els.empty.parentNode.removeChild(els.empty);
  }

  function appendSystem(text, isError) {
    hideEmptyHint();
    var li = document.createElement('li');
    li.className = isError ? 'system error' : 'system';
    li.textContent = text;
    els.messages.appendChild(li);
    lastSender = null;
    scrollToEnd();
  }

  // Add one chat bubble. side: "visitor" | "agent"; name shown above the first of a group.
  function appendBubble(side, text, options) {
    hideEmptyHint();
    var senderKey = side + ':' + (options.agentId || '');
    var li = document.createElement('li');
    li.className = 'msg ' + side + ' last';
    if (senderKey !== lastSender) {
      li.classList.add('first');
    } else {
      var prev = els.messages.lastElementChild;
      if (prev) prev.classList.remove('last');
    }

    if (side === 'agent') {
      var avatar = document.createElement('span');
      avatar.className = 'avatar';
      avatar.setAttribute('aria-hidden', 'true');
      avatar.textContent = initials(options.name);
      li.appendChild(avatar);
    }
    var wrap = document.createElement('div');
    wrap.className = 'bubble-wrap';
    if (side === 'agent' && senderKey !== lastSender) {
      var sender = document.createElement('span');
      sender.className = 'sender';
      sender.textContent = options.name;
      wrap.appendChild(sender);
    }
    var bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.textContent = text;
    wrap.appendChild(bubble);
    var meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = options.meta || formatTime(options.createdAt);
    wrap.appendChild(meta);
    li.appendChild(wrap);
    if (options.id) li.dataset.messageId = options.id;

    els.messages.appendChild(li);
    lastSender = senderKey;
    scrollToEnd();
    return li;
  }

  function messageText(message) {
    var content = message.content || {};
    if (typeof content.text === 'string') return content.text;
    return '[' + (content.type || 'message') + ']';
  }

  // Render a message object from the wire (PROTOCOL.md §3 "message"), once per id.
  function showMessage(message) {
    if (!message || typeof message !== 'object') return;
    if (message.id && seen[message.id]) return;
    if (message.type === 'event' || message.subType === 'system') {
      if (message.id) seen[message.id] = true;
      var line = describeEvent(message);
      if (line) appendSystem(line);
      if (message.content && message.content.type === 'agent_leave') setAgentTyping(false);
      return;
    }
    if (message.subType === 'contact') {
      // Our own message echoed back: adopt the pending bubble with the same text if any.
      var text2 = messageText(message);
      for (var i = 0; i < pending.length; i++) {
        if (pending[i].text === text2) {
          confirmPending(pending[i], message);
          return;
        }
      }
      if (message.id) seen[message.id] = true;
      appendBubble('visitor', text2, { id: message.id, createdAt: message.createdAt });
      return;
    }
    if (message.id) seen[message.id] = true;
    if (message.agentId) lastAgentId = message.agentId;
    setAgentTyping(false);
    appendBubble('agent', messageText(message), {
      id: message.id,
      agentId: message.agentId,
      name: agentName(message.agentId),
      createdAt: message.createdAt,
    });
    markRead();
  }

  // Chat event messages carry no text, only content.type and data (PROTOCOL.md §3 message).
  function describeEvent(message) {
    var content = message.content || {};
    var data = content.data || {};
    switch (content.type) {
      case 'agent_join': return agentName(data.agentId) + ' joined the chat';
      case 'agent_leave': return agentName(data.agentId) + ' left the chat';
      case 'chat_close': return 'The chat was closed. Write again to start a new one.';
      case 'rate_form': return 'You rated the chat' + (data.value ? ' ' + data.value + '/5' : '');
      default: return content.text || null;
    }
  }

  function confirmPending(entry, message) {
    var index = pending.indexOf(entry);
    if (index >= 0) pending.splice(index, 1);
    entry.li.classList.remove('pending');
    if (message && message.id) {
      seen[message.id] = true;
      entry.li.dataset.messageId = message.id;
    }
    var meta = entry.li.querySelector('.meta');
    if (meta) meta.textContent = formatTime(message && message.createdAt);
  }

  // ---- typing -----------------------------------------------------------------------------

  function setAgentTyping(isTyping, agentId) {
    clearTimeout(typingTimer);
    if (isTyping) {
      var name = agentName(agentId);
      els.typingLabel.textContent = name + ' is typing…';
      els.typingAvatar.textContent = initials(name);
      els.typing.hidden = false;
      typingTimer = setTimeout(function () { setAgentTyping(false); }, AGENT_TYPING_STALE_MS);
      scrollToEnd();
    } else {
      els.typing.hidden = true;
    }
  }

  // The visitor's chat.agent_typing carries no agent id (PROTOCOL.md §4): guess the one agent
  // in the chat, else whoever wrote last, else the only agent online, so the label names the
  // agent whose bubble follows; it falls back to "Agent" as the bubbles do.
  function typingAgentId() {
    if (!client) return null;
    var assigned = client.getAssignedAgents().filter(Boolean);
    if (assigned.length === 1) return assigned[0].id;
    if (lastAgentId) return lastAgentId;
    var online = (client.getAgents() || []).filter(function (a) { return a && a.status === 'online'; });
    return online.length === 1 ? online[0].id : null;
  }

  function setVisitorTyping(isTyping) {
    if (!ready || isTyping === visitorTyping) return;
    visitorTyping = isTyping;
    try { client.chatTyping(isTyping); } catch (err) { /* not connected yet: nothing to tell */ }
  }

  function onInput() {
    autosize();
    updateSendButton();
    if (els.input.value.trim()) {
      setVisitorTyping(true);
      clearTimeout(visitorTypingTimer);
      visitorTypingTimer = setTimeout(function () { setVisitorTyping(false); }, VISITOR_TYPING_IDLE_MS);
    } else {
      clearTimeout(visitorTypingTimer);
      setVisitorTyping(false);
    }
  }

  function markRead() {
    if (!ready || document.visibilityState !== 'visible') return;
    try { client.chatRead(); } catch (err) { /* ignore: read receipts are best effort */ }
  }

  // ---- sending ----------------------------------------------------------------------------

  function autosize() {
    els.input.style.height = 'auto';
    els.input.style.height = Math.min(els.input.scrollHeight, 120) + 'px';
  }

  function updateSendButton() {
    els.send.disabled = !ready || !els.input.value.trim();
  }

  function send() {
    var text = els.input.value.replace(/\s+$/, '');
    if (!text.trim() || !ready) return;
    els.input.value = '';
    autosize();
    updateSendButton();
    clearTimeout(visitorTypingTimer);
    setVisitorTyping(false);

    var li = appendBubble('visitor', text, { meta: 'Sending…' });
    li.classList.add('pending');
    var entry = { text: text, li: li };
    pending.push(entry);
    // The SDK buffers the request while the socket reconnects; the bubble says so meanwhile.
    client.chatMessage({ content: { type: 'text', text: text } }).then(function (message) {
      if (pending.indexOf(entry) >= 0) confirmPending(entry, message);
      else if (message && message.id) seen[message.id] = true;
    }, function (err) {
      var index = pending.indexOf(entry);
      if (index >= 0) pending.splice(index, 1);
      li.classList.remove('pending');
      li.classList.add('failed');
      li.querySelector('.meta').textContent = 'Not sent: ' + (err && err.message ? err.message : 'error');
    });
  }

  els.form.addEventListener('submit', function (event) {
    event.preventDefault();
    send();
  });
  els.input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  els.input.addEventListener('input', onInput);
  document.addEventListener('visibilitychange', markRead);

  // ---- the SDK ----------------------------------------------------------------------------

  function storedVisitorId() {
    var params = new URLSearchParams(location.search);
    if (params.has('new')) {
      try { localStorage.removeItem(STORAGE_KEY); } catch (err) { /* private mode */ }
      return null;
    }
    try { return localStorage.getItem(STORAGE_KEY); } catch (err) { return null; }
  }

  function rememberVisitor(id) {
    try { if (id) localStorage.setItem(STORAGE_KEY, id); } catch (err) { /* private mode */ }
  }

  function onInitialized(data) {
    ready = true;
    setState('online');
    if (data && data.visitor) rememberVisitor(data.visitor.id);
    setAvailability(client.getAccountStatus());
    // A reconnect (or a reload with a known visitor id) brings the chat's history back.
    var history = (data && data.chat && data.chat.messages) || [];
    for (var i = 0; i < history.length; i++) showMessage(history[i]);
    markRead();
  }

  function start(config, visitorId, isRetry) {
    var params = new URLSearchParams(location.search);
    var data = { id: visitorId, key: config.accountKey };
    if (params.get('name')) data.name = params.get('name');
    if (params.get('email')) data.email = params.get('email');
    data.lang = (navigator.language || 'en').slice(0, 2);

    var own = window.SmartsuppWebsocket.createVisitorClient({
      data: data,
      connection: {
        url: location.origin,
        options: {
          path: '/socket',
          reconnectionDelay: 500,
          reconnectionDelayMax: 4000,
          randomizationFactor: 0.3,
        },
      },
    });
    client = own;
    var socket = own.getConnection();
    // Handlers of a client that was replaced (see the retry below) must not touch the page.
    function on(emitter, name, handler) {
      emitter.on(name, function (arg) { if (client === own) handler(arg); });
    }

    on(own, 'initialized', onInitialized);
    on(own, 'disconnect', function (reason) {
      ready = false;
      updateSendButton();
      setAgentTyping(false);
      // socket.io-client 2.x does not come back on its own after these two.
      setState(reason === 'io server disconnect' || reason === 'io client disconnect' ? 'offline' : 'reconnecting');
    });
    on(socket, 'reconnect_attempt', function () { setState('reconnecting'); });
    on(socket, 'reconnect_failed', function () { setState('offline'); });
    on(own, 'error', function (err) {
      // server.error: shown, never thrown (an unhandled 'error' would throw in the SDK).
      appendSystem('Server error: ' + (err && err.message ? err.message : 'unknown'), true);
    });

    on(own, 'chat.message_received', function (event) { showMessage(event && event.message); });
    on(own, 'chat.agent_typing', function (event) {
      var typing = (event && event.typing) || {};
      setAgentTyping(!!typing.is, (event && event.agentId) || typingAgentId());
    });
    // Join, leave and close arrive with their event message: render it like the history does.
    function onChatEvent(fallback) {
      return function (event) {
        var message = event && event.message;
        if (message && message.content) showMessage(message);
        else appendSystem(fallback(event || {}));
      };
    }
    on(own, 'chat.agent_joined', onChatEvent(function (event) {
      return ((event.agent && event.agent.nickname) || 'An agent') + ' joined the chat';
    }));
    on(own, 'chat.agent_left', onChatEvent(function (event) {
      setAgentTyping(false);
      return ((event.agent && event.agent.nickname) || 'An agent') + ' left the chat';
    }));
    on(own, 'chat.closed', function (event) {
      setAgentTyping(false);
      onChatEvent(function () { return 'The chat was closed. Write again to start a new one.'; })(event);
    });
    on(own, 'account.status_updated', setAvailability);

    own.connect().then(null, function (err) {
      if (visitorId && !isRetry) {
        // The sandbox forgets everything when it restarts: start over as a new visitor.
        try { localStorage.removeItem(STORAGE_KEY); } catch (e) { /* private mode */ }
        client = null;
        own.disconnect();
        start(config, null, true);
        return;
      }
      setState('offline');
      appendSystem('Could not connect: ' + (err && err.message ? err.message : 'error'), true);
    });
  }

  window.addEventListener('offline', function () { if (!ready) setState('offline'); });

  setState('connecting');
  fetch('/api/config', { headers: { Accept: 'application/json' } })
    .then(function (response) {
      if (!response.ok) throw new Error('GET /api/config answered ' + response.status);
      return response.json();
    })
    .then(function (config) { start(config, storedVisitorId(), false); })
    .catch(function (err) {
      setState('offline');
      appendSystem('Could not reach the sandbox: ' + err.message, true);
    });
})();
