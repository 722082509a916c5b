"""Where a :class:`~oxide_rx.relay.redis_log.RedisLog` keeps things, and the scripts that
change them atomically.

Key layout (``P`` is the prefix, ``oxide_rx:relay:`` by default; one generation's keys share
the ``{id}`` hash tag):

==============================  =========  ==================================================
``P{id}:log``                   stream     one entry per record: ``d`` = the msgspec bytes
                                           (``e`` marks the last one)
``P{id}:meta``                  hash       ``owner``, ``end`` (last id once ended), ``n``
                                           entries and ``b`` bytes so far (the bounds)
``P{id}:stop``                  stream     one entry once a stop was asked (the owner blocks
                                           on it with ``XREAD``; reading does not consume it)
``P{id}:watchers``              set        nodes that have viewers now (the unwatched policy)
``Pnode:{name}``                string     a node's heartbeat, ``PX`` = the owner timeout
``Palias:{alias}``              string     a ``useChat`` chat id -> its generation (TTL:
                                           ``idle_ttl``)
``Pgenerations``                zset       generation ids by creation time (``ids()``);
                                           expired ones leave it on listing and on create
==============================  =========  ==================================================

Every key of a generation carries a TTL from the start: ``idle_ttl`` while it runs
(refreshed by each append, so only a generation every node forgot expires early), the
retention once it ended. Nothing is left behind by a crashed node.

Each script checks and writes in one step, so two nodes never both end a generation, an
append never lands after the end, and a bound is never crossed by a race.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPEND",
    "CREATE",
    "END",
    "END_ORPHAN",
    "READ",
    "STOP",
    "WATCH",
    "GenerationKeys",
]


@dataclass(frozen=True)
class GenerationKeys:
    """The keys of one generation."""

    log: str
    meta: str
    stop: str
    watchers: str

    @classmethod
    def of(cls, prefix: str, generation_id: str) -> GenerationKeys:
        base = f"{prefix}{{{generation_id}}}:"
        return cls(base + "log", base + "meta", base + "stop", base + "watchers")

    @property
    def all(self) -> list[str]:
        return [self.meta, self.log, self.stop, self.watchers]


# Errors a script returns, by their first word (redis-py raises them as ResponseError).
NOT_FOUND = "OXRX_NOT_FOUND"
ENDED = "OXRX_ENDED"
INVALID_ID = "OXRX_INVALID_ID"
LIMIT = "OXRX_LIMIT"

# KEYS: meta, log, stop, watchers, index, node. ARGV: owner, id, now ms, idle ms, timeout ms.
CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'n', 0, 'b', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[2])
redis.call('SET', KEYS[6], '1', 'PX', ARGV[5])
return 1
"""

# KEYS: meta, log, stop, watchers. ARGV: max entries, max bytes, idle ms, maxlen,
# overhead per entry, entries...
APPEND = f"""
local state = redis.call('HMGET', KEYS[1], 'owner', 'end', 'n', 'b')
if not state[1] then return redis.error_reply('{NOT_FOUND}') end
if state[2] then return redis.error_reply('{ENDED}') end
local n = tonumber(state[3]) + #ARGV - 5
if n > tonumber(ARGV[1]) then
  return redis.error_reply('{LIMIT} entries_per_generation ' .. ARGV[1])
end
local size = tonumber(state[4])
for i = 6, #ARGV do size = size + #ARGV[i] + tonumber(ARGV[5]) end
if size > tonumber(ARGV[2]) then
  return redis.error_reply('{LIMIT} bytes_per_generation ' .. ARGV[2])
end
local ids = {{}}
for i = 6, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'd', ARGV[i])
end
redis.call('HSET', KEYS[1], 'n', n, 'b', size)
for k = 1, 4 do redis.call('PEXPIRE', KEYS[k], ARGV[3]) end
return ids
"""

_WRITE_END = """
local id
for i = FIRST, #ARGV do
  if i == #ARGV then
    id = redis.call('XADD', KEYS[2], '*', 'd', ARGV[i], 'e', '1')
  else
    id = redis.call('XADD', KEYS[2], '*', 'd', ARGV[i])
  end
end
redis.call('HSET', KEYS[1], 'end', id)
for k = 1, 4 do redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
return id
"""

# KEYS: meta, log, stop, watchers. ARGV: retention ms, entries... (never refused by a bound)
END = f"""
local state = redis.call('HMGET', KEYS[1], 'owner', 'end')
if not state[1] then return redis.error_reply('{NOT_FOUND}') end
if state[2] then return state[2] end
""" + _WRITE_END.replace("FIRST", "2")

# KEYS: meta, log, stop, watchers, the owner's node key. ARGV: retention ms, owner,
# last id read ('' for none), entries...
END_ORPHAN = f"""
local state = redis.call('HMGET', KEYS[1], 'owner', 'end')
if not state[1] then return redis.error_reply('{NOT_FOUND}') end
if state[2] or state[1] ~= ARGV[2] or redis.call('EXISTS', KEYS[5]) == 1 then
  return false
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last_id = ''
if last[1] then last_id = last[1][1] end
if last_id ~= ARGV[3] then return false end
""" + _WRITE_END.replace("FIRST", "4")

# KEYS: meta, log. ARGV: after ('' for the start), count. Returns {ended, entries}.
READ = f"""
local state = redis.call('HMGET', KEYS[1], 'owner', 'end')
if not state[1] then return redis.error_reply('{NOT_FOUND}') end
local from = '-'
if ARGV[1] ~= '' then
  if #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1], 'COUNT', 1) == 0 then
    return redis.error_reply('{INVALID_ID}')
  end
  from = '(' .. ARGV[1]
end
local entries = {{}}
if tonumber(ARGV[2]) > 0 then
  entries = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', ARGV[2])
end
local ended = 0
if state[2] then ended = 1 end
return {{ended, entries}}
"""

# KEYS: meta, stop.
STOP = f"""
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return redis.error_reply('{NOT_FOUND}') end
redis.call('XADD', KEYS[2], 'MAXLEN', 1, '*', 's', '1')
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
"""

# KEYS: meta, watchers, the node's key. ARGV: node, '1' (watching) or '0', timeout ms.
WATCH = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return 0 end
if ARGV[2] == '1' then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ttl)
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
"""
