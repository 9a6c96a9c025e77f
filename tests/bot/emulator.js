#!/usr/bin/env node
// Starts the npm Telegram Bot API emulator `telegram-test-api` (4.2.1) on 127.0.0.1 with the
// gaps that stop python-telegram-bot 22.8 from talking to it closed. Usage:
//
//   node tests/bot/emulator.js --port 0 [--module-dir tests/.node/node_modules/telegram-test-api]
//
// Prints one line `READY <port>` on stdout once listening. Gaps closed here (each found with
// PTB 22.8 against the package as shipped):
//   - getMe lacks `is_bot` (PTB's User requires it)                   -> full bot User
//   - sent message `date` is in milliseconds (Telegram: seconds); the result also echoes raw
//     form fields (JSON strings) that PTB cannot parse                -> clean Message, seconds
//   - setMyCommands, sendChatAction, answerCallbackQuery not usable   -> implemented (and recorded)
//   - editMessageText returns null instead of the edited Message      -> returns the Message
//   - getUpdates returns at once (no long polling)                    -> waits up to `timeout`
//   - a callback update lacks `chat_instance` (required)             -> added
//   - webhook delivery omits X-Telegram-Bot-Api-Secret-Token and crashes the process on a
//     non-2xx answer (unhandled rejection)                            -> header sent, errors returned
//   - the client routes answer before the update exists and never say its ids
//                                                                      -> they await and return ids
// Two client routes are added for assertions: POST /getChatActions and /getCallbackAnswers.
'use strict';

const path = require('path');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const moduleDir = path.resolve(option(
  'module-dir', path.join(__dirname, '..', '.node', 'node_modules', 'telegram-test-api'),
));
const port = Number(option('port', '0'));
const botUsername = option('bot-username', 'TestNameBot');
const BOT_ID = 666;

const TelegramServer = require(moduleDir);
// The same module object telegramServer.js reads its routes from: routes put first here are
// registered before the package's own (and before its catch-all "unknown method" route).
const { routes } = require(path.join(moduleDir, 'lib', 'routes', 'index'));
const axios = require(require.resolve('axios', { paths: [moduleDir] }));

const seconds = (millis) => Math.floor(millis / 1000);
const botUser = () => ({
  id: BOT_ID,
  is_bot: true,
  first_name: 'Test First name',
  username: botUsername,
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
});
const parsed = (value) => {
  if (typeof value !== 'string') return value;
  try { return JSON.parse(value); } catch (_e) { return value; }
};
const chatOf = (chatId) => {
  const id = Number(chatId);
  return id < 0 ? { id, type: 'supergroup', title: 'Test group' } : { id, type: 'private', first_name: 'Test' };
};

// What Telegram returns for a message the bot sent: only Telegram's fields, typed as Telegram
// types them (the form encoding sends numbers and objects as strings).
function asTelegramMessage(stored) {
  const m = stored.message;
  const message = {
    message_id: stored.messageId,
    date: seconds(stored.time),
    chat: chatOf(m.chat_id),
    from: botUser(),
    text: m.text,
  };
  const markup = parsed(m.reply_markup);
  if (markup && markup.inline_keyboard) message.reply_markup = markup;
  if (stored.editedAt) message.edit_date = seconds(stored.editedAt);
  return message;
}

function ok(res, result) {
  res.json({ ok: true, result });
}

function badRequest(res, description) {
  res.status(400).json({ ok: false, error_code: 400, description: `Bad Request: ${description}` });
}

function botMethod(app, method, handler) {
  app.all(`/bot:token/${method}`, (req, res, next) => {
    Promise.resolve(handler(req, res, next)).catch((error) => {
      res.status(500).json({ ok: false, error_code: 500, description: String(error) });
    });
  });
}

function patchedRoutes(app, server) {
  server.chatActions = [];
  server.callbackAnswers = [];

  botMethod(app, 'getMe', (_req, res) => ok(res, botUser()));

  botMethod(app, 'sendMessage', (req, res) => {
    if (!req.body.chat_id || typeof req.body.text !== 'string' || !req.body.text.length) {
      badRequest(res, 'message text is empty or chat_id is missing');
      return;
    }
    server.addBotMessage(req.body, req.params.token);
    const stored = server.storage.botMessages[server.storage.botMessages.length - 1];
    ok(res, asTelegramMessage(stored));
  });

  botMethod(app, 'editMessageText', (req, res) => {
    const find = () => server.storage.botMessages.find((u) => (
      u.botToken === req.params.token
      && String(u.messageId) === String(req.body.message_id)
      && String(u.message.chat_id) === String(req.body.chat_id)));
    if (!find()) {
      badRequest(res, 'message to edit not found');
      return;
    }
    // Telegram drops the inline keyboard of an edit that sends none; the package keeps it.
    if (req.body.reply_markup === undefined) delete find().message.reply_markup;
    server.editMessageText(req.body);
    const stored = find();
    stored.editedAt = Date.now();
    ok(res, asTelegramMessage(stored));
  });

  botMethod(app, 'sendChatAction', (req, res) => {
    server.chatActions.push({
      token: req.params.token, chat_id: Number(req.body.chat_id), action: req.body.action, time: Date.now(),
    });
    ok(res, true);
  });

  botMethod(app, 'answerCallbackQuery', (req, res) => {
    server.callbackAnswers.push({
      token: req.params.token,
      callback_query_id: String(req.body.callback_query_id),
      text: req.body.text,
      show_alert: parsed(req.body.show_alert) === true,
    });
    ok(res, true);
  });

  for (const method of ['setMyCommands', 'deleteMyCommands', 'setMyDescription', 'setMyShortDescription']) {
    botMethod(app, method, (_req, res) => ok(res, true));
  }

  botMethod(app, 'setWebhook', (req, res) => {
    const webhook = req.body.url ? req.body : req.query;
    if (!webhook.url) {
      badRequest(res, 'webhook url is missing');
      return;
    }
    server.setWebhook(webhook, req.params.token);
    ok(res, true);
  });

  botMethod(app, 'getWebhookInfo', (req, res) => {
    const webhook = server.webhooks[req.params.token];
    ok(res, { url: webhook ? webhook.url : '', has_custom_certificate: false, pending_update_count: 0 });
  });

  // Long polling: without it a client either spins or waits a full poll interval.
  botMethod(app, 'getUpdates', async (req, res) => {
    const token = req.params.token;
    const waitSeconds = Math.min(Number(req.body.timeout || req.query.timeout || 0), 30);
    const pending = () => server.storage.userMessages.some((u) => u.botToken === token && !u.isRead);
    if (!pending() && waitSeconds > 0) {
      await new Promise((resolve) => {
        const events = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'];
        let timer = null;
        const done = () => {
          clearTimeout(timer);
          events.forEach((event) => server.off(event, check));
          resolve();
        };
        function check() { if (pending()) done(); }
        timer = setTimeout(done, waitSeconds * 1000);
        events.forEach((event) => server.on(event, check));
        res.on('close', done); // the client gave up (req's 'close' fires as soon as the body is read)
      });
    }
    ok(res, server.getUpdates(token));
  });

  // Client side: wait until the update exists (or the webhook took it) and say its ids.
  const userRoute = (route, add) => {
    app.post(route, async (req, res) => {
      const ids = { update_id: server.updateId, message_id: server.messageId, callback_id: server.callbackId };
      try {
        await add(req.body);
        ok(res, ids);
      } catch (error) {
        res.status(502).json({ ok: false, description: String(error && error.message ? error.message : error) });
      }
    });
  };
  userRoute('/sendMessage', (body) => server.addUserMessage(body));
  userRoute('/sendCommand', (body) => server.addUserCommand(body));
  userRoute('/sendCallback', (body) => server.addUserCallback(body));

  app.post('/getChatActions', (req, res) => ok(res, server.chatActions.filter((a) => a.token === req.body.token)));
  app.post('/getCallbackAnswers', (req, res) => ok(res, server.callbackAnswers.filter((a) => a.token === req.body.token)));
}

routes.unshift(patchedRoutes);

// Updates as Telegram formats them: no emulator bookkeeping fields, `chat_instance` present.
TelegramServer.formatUpdate = function formatUpdate(update) {
  if ('callbackQuery' in update) {
    const query = update.callbackQuery;
    const chat = query.message && query.message.chat;
    return {
      update_id: update.updateId,
      callback_query: {
        id: String(update.callbackId),
        from: query.from,
        message: query.message,
        chat_instance: String(query.chat_instance || (chat ? chat.id : update.callbackId)),
        data: query.data,
      },
    };
  }
  const { botToken: _token, ...message } = update.message;
  return { update_id: update.updateId, message: { ...message, message_id: update.messageId } };
};

// Webhook delivery with Telegram's secret-token header, failing the client call (not the process).
TelegramServer.prototype.addUserUpdate = async function addUserUpdate(update) {
  if (!update.botToken) throw new Error('The update must contain a `botToken` field.');
  const webhook = this.webhooks[update.botToken];
  if (webhook) {
    const headers = {};
    if (webhook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = webhook.secret_token;
    const resp = await axios({
      url: webhook.url, method: 'POST', data: TelegramServer.formatUpdate(update), headers, validateStatus: () => true,
    });
    if (resp.status > 204) throw new Error(`Webhook answered ${resp.status}`);
  } else {
    this.storage.userMessages.push(update);
  }
  this.updateId++;
};

async function main() {
  const server = new TelegramServer({ host: '127.0.0.1', port: port || 1, storeTimeout: 3600 });
  if (!port) {
    // Let the OS choose: the package insists on a configured port, so listen on 0 ourselves.
    server.config.port = 0;
  }
  await server.start();
  const actual = server.server.address().port;
  server.config.port = actual;
  server.config.apiURL = `http://127.0.0.1:${actual}`;
  process.stdout.write(`READY ${actual}\n`);
  const stop = () => { server.stop().finally(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`emulator failed to start: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
