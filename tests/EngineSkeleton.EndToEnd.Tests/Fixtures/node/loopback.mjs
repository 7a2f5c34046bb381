import net from 'node:net';
import dgram from 'node:dgram';
const ANY = new Set(['0.0.0.0', '::', '']);
const origListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (typeof args[1] !== 'string' || ANY.has(args[1]))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1'; else args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && (args[0].host === undefined || ANY.has(args[0].host))) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return origListen.apply(this, args);
};
const origBind = dgram.Socket.prototype.bind;
dgram.Socket.prototype.bind = function (...args) {
  if (typeof args[0] === 'number' && (typeof args[1] !== 'string' || ANY.has(args[1]))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1'; else args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && (args[0].address === undefined || ANY.has(args[0].address))) {
    args[0] = { ...args[0], address: '127.0.0.1' };
  }
  return origBind.apply(this, args);
};
