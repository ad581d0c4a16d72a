// Browser entry for the sandbox pages: Smartsupp's official visitor SDK for the chat page,
// and the socket.io-client 2.x it is built on (Engine.IO 3) for the agent console.
'use strict';
var sdk = require('smartsupp-websocket');
window.SmartsuppWebsocket = sdk;
window.io = require('socket.io-client');
