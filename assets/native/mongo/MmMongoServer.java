// mm's launcher for mongo-java-server (de.bwaldvogel:mongo-java-server, see pom.xml beside this file).
//
// Usage:
//   java -cp '<lib>/*:<classes>' MmMongoServer --port N [--bind 127.0.0.1] [--data FILE] [--oplog|--no-oplog]
//   java -cp '<lib>/*' MmMongoServer.java ...          (single-file source launch, slower to start)
//
//   --port N      TCP port (0 = pick a free one; the chosen port is printed)
//   --bind ADDR   address to listen on (default 127.0.0.1; only that address is bound)
//   --data FILE   H2 MVStore file: data survives restarts. Without it: in-memory backend.
//   --oplog       enable the oplog (needed for change streams). Default: on in memory, off with --data
//   --no-oplog    disable the oplog (with --data the oplog would otherwise grow without bound)
//
// Prints exactly one line to stdout when ready:   mm-mongo listening on 127.0.0.1:PORT
// Logs (slf4j-simple) go to stderr at WARN (two noisy wire loggers off) unless overridden with
// -Dorg.slf4j.simpleLogger.defaultLogLevel=info / -Dorg.slf4j.simpleLogger.log.<logger>=... .
// On SIGTERM/SIGINT a shutdown hook closes clients and the backend (H2 commits and closes its file).
// Exit code 2 = bad arguments, 1 = failed to start (e.g. port in use, data file locked).

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.backend.h2.H2UniqueIndex;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import io.netty.channel.Channel;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ObjectDataType;

public class MmMongoServer {

    /*
     * _id first. mongo-java-server uses an index only when the query names exactly the index's
     * keys, so `{_id: X, version: {$lt: 5}}` (a version-guarded write) scans the whole collection
     * and costs more as data grows. When a query pins `_id` (a value or `$in`) and names other
     * fields too, these collections take the candidates from the `_id` index and match the whole
     * query on those alone: the same result, in O(1) instead of O(n).
     */
    static <P> QueryResult byIdFirst(List<Index<P>> indexes, Document query, java.util.function.Function<Iterable<P>, QueryResult> match) {
        if (query.size() < 2 || !query.containsKey("_id")) return null;
        Object id = query.get("_id");
        if (id instanceof Document d && !(d.size() == 1 && d.containsKey("$in"))) return null;
        Document byId = new Document("_id", id);
        for (Index<P> index : indexes) {
            if (index.canHandle(byId)) return match.apply(index.getPositions(byId));
        }
        return null;
    }

    static final class IdFirstMemoryCollection extends MemoryCollection {
        IdFirstMemoryCollection(MongoDatabase db, String name, CollectionOptions options, de.bwaldvogel.mongo.backend.CursorRegistry cursors) {
            super(db, name, options, cursors);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int skip, int limit, int batchSize, Document fields) {
            QueryResult r = byIdFirst(getIndexes(), query, positions -> matchDocuments(query, positions, orderBy, skip, limit, batchSize, fields));
            return r != null ? r : super.queryDocuments(query, orderBy, skip, limit, batchSize, fields);
        }
    }

    static final class IdFirstMemoryBackend extends MemoryBackend {
        @Override
        public MemoryDatabase openOrCreateDatabase(String databaseName) {
            return new MemoryDatabase(databaseName, getCursorRegistry()) {
                @Override
                protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
                    return new IdFirstMemoryCollection(this, collectionName, options, cursorRegistry);
                }
            };
        }
    }

    static final class IdFirstH2Collection extends H2Collection {
        IdFirstH2Collection(MongoDatabase db, String name, CollectionOptions options, MVMap<Object, Document> data, MVMap<String, Object> meta, de.bwaldvogel.mongo.backend.CursorRegistry cursors) {
            super(db, name, options, data, meta, cursors);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int skip, int limit, int batchSize, Document fields) {
            QueryResult r = byIdFirst(getIndexes(), query, positions -> matchDocuments(query, positions, orderBy, skip, limit, batchSize, fields));
            return r != null ? r : super.queryDocuments(query, orderBy, skip, limit, batchSize, fields);
        }
    }

    static final class IdFirstH2Backend extends H2Backend {
        /** Commands that change data: committed to the file before they are answered. */
        private static final Set<String> WRITES = Set.of("insert", "update", "delete", "findandmodify", "create", "drop", "dropdatabase",
                "createindexes", "dropindexes", "renamecollection");

        IdFirstH2Backend(String fileName) {
            super(fileName); // opens the databases already in the file, through the override below
        }

        // H2's MVStore commits on its own only every second or so: a write acknowledged just before
        // a SIGKILL was lost, and the projector, whose Kafka offsets had moved on, never wrote it
        // again (the chaos tier found orders stuck at PENDING in orders_view). So a write is
        // answered only once a commit that started after it has finished (the OS then holds the
        // file pages). Group commit: one committer thread commits whatever is pending, so writes
        // arriving together share one commit instead of each paying for its own.
        // -Dmm.mongo.commit=each commits per write instead; =off restores H2's own schedule.
        private static final String MODE = System.getProperty("mm.mongo.commit", "group");
        private final Object pending = new Object();
        private long requested;
        private long committed;
        private Thread committer;

        @Override
        public Document handleMessage(MongoMessage message) {
            Document answer = super.handleMessage(message);
            Document command = message.getDocument();
            if (command != null && !command.isEmpty() && WRITES.contains(command.keySet().iterator().next().toLowerCase(Locale.ROOT))) {
                durable();
            }
            return answer;
        }

        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            Document answer = super.handleCommand(channel, database, command, query);
            if (WRITES.contains(command.toLowerCase(Locale.ROOT))) {
                durable();
            }
            return answer;
        }

        private void durable() {
            if (MODE.equals("off")) {
                return;
            }
            if (MODE.equals("each")) {
                commit();
                return;
            }
            synchronized (pending) {
                if (committer == null) {
                    committer = new Thread(this::commitLoop, "mm-mongo-commit");
                    committer.setDaemon(true);
                    committer.start();
                }
                long mine = ++requested;
                pending.notifyAll();
                while (committed < mine) {
                    try {
                        pending.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        private void commitLoop() {
            for (;;) {
                long target;
                synchronized (pending) {
                    while (requested == committed) {
                        try {
                            pending.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    target = requested;
                }
                try {
                    commit();
                } catch (RuntimeException e) {
                    System.err.println("mm-mongo: commit failed: " + e);
                }
                synchronized (pending) {
                    committed = target;
                    pending.notifyAll();
                }
            }
        }

        @Override
        protected MongoDatabase openOrCreateDatabase(String databaseName) {
            return new H2Database(databaseName, getMvStore(), getCursorRegistry()) {
                @Override
                protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
                    // The same map as H2Database opens (same name, same stored format), with the key type below.
                    try {
                        String mapName = (String) MAP_NAME_FOR_INDEX.invoke(this, collectionName, indexName);
                        MVMap<KeyValue, Object> map = getMvStore().openMap(mapName, new MVMap.Builder<KeyValue, Object>().keyType(INDEX_KEYS));
                        @SuppressWarnings("unchecked")
                        Index<Object> index = (Index<Object>) UNIQUE_INDEX.newInstance(map, indexName, keys, sparse);
                        return index;
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("mm-mongo: cannot open index " + indexName + " of " + collectionName, e);
                    }
                }

                @Override
                protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
                    // The same map names as H2Database, so data written before this launcher stays readable.
                    MVStore store = getMvStore();
                    String full = getFullCollectionNamespace(collectionName);
                    MVMap<Object, Document> data = store.openMap("databases." + full);
                    MVMap<String, Object> meta = store.openMap("meta." + full);
                    return new IdFirstH2Collection(this, collectionName, options, data, meta, cursorRegistry);
                }
            };
        }
    }

    /*
     * The unique indexes' keys (KeyValue: neither a String nor Comparable) are ordered by H2 by
     * comparing their Java serializations, and H2 serializes both sides again on every comparison:
     * a profile of the order flow (JFR) showed half of the request threads' time in
     * H2UniqueIndex.getPosition, building ObjectOutputStreams. This key type orders them exactly
     * as H2 does (the same bytes, the same comparison: stored files stay valid both ways) but
     * serializes each key object once, keeping the bytes of the most recently used ones by identity.
     */
    static final class IndexKeyType extends ObjectDataType {
        private static final int CACHED = Integer.getInteger("mm.mongo.indexKeyCache", 100_000);
        private final Map<Object, byte[]> bytes = new LinkedHashMap<>(1 << 14, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, byte[]> eldest) {
                return size() > CACHED;
            }
        };

        @Override
        public int compare(Object a, Object b) {
            if (a instanceof KeyValue && b instanceof KeyValue && a != b) {
                return compareNotNull(serialized(a), serialized(b));
            }
            return super.compare(a, b);
        }

        private byte[] serialized(Object key) {
            Identity id = new Identity(key);
            synchronized (bytes) {
                byte[] b = bytes.get(id);
                if (b != null) return b;
            }
            byte[] b = serialize(key);
            synchronized (bytes) {
                bytes.put(id, b);
            }
            return b;
        }

        /** Identity, not equals(): two equal keys may still serialize differently (1 and 1L). */
        private record Identity(Object key) {
            @Override
            public boolean equals(Object o) {
                return o instanceof Identity other && other.key == key;
            }

            @Override
            public int hashCode() {
                return System.identityHashCode(key);
            }
        }
    }

    static final IndexKeyType INDEX_KEYS = new IndexKeyType();
    static final Method MAP_NAME_FOR_INDEX;
    static final Constructor<?> UNIQUE_INDEX;

    static {
        try {
            MAP_NAME_FOR_INDEX = H2Database.class.getDeclaredMethod("mapNameForIndex", String.class, String.class);
            MAP_NAME_FOR_INDEX.setAccessible(true);
            UNIQUE_INDEX = H2UniqueIndex.class.getDeclaredConstructor(MVMap.class, String.class, List.class, boolean.class);
            UNIQUE_INDEX.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Reported as MongoDB 4.4 (wire version 9); mongo-java-server's own enum stops at MONGO_5_0 = wire 8. */
    static final class Mongo44 implements MongoVersion {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    }

    private static void usage(String msg) {
        System.err.println("mm-mongo: " + msg);
        System.err.println("usage: MmMongoServer --port N [--bind 127.0.0.1] [--data FILE] [--oplog|--no-oplog]");
        System.exit(2);
    }

    private static void setDefaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    public static void main(String[] args) {
        setDefaultProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        // Both log full stack traces at ERROR for routine events: every Node driver close resets its
        // monitor sockets ("Connection reset"), and every unknown command (e.g. `hello`) is logged
        // although the client already receives the error. Silence them unless asked otherwise.
        setDefaultProperty("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoExceptionHandler", "off");
        setDefaultProperty("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler", "off");

        Integer port = null;
        String bind = "127.0.0.1";
        String data = null;
        Boolean oplog = null;

        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                v = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "--port":
                case "--bind":
                case "--data":
                    if (v == null) {
                        if (i + 1 >= args.length) usage("missing value for " + a);
                        v = args[++i];
                    }
                    if (a.equals("--port")) {
                        try {
                            port = Integer.parseInt(v);
                        } catch (NumberFormatException e) {
                            usage("bad port: " + v);
                        }
                        if (port < 0 || port > 65535) usage("bad port: " + v);
                    } else if (a.equals("--bind")) {
                        bind = v;
                    } else {
                        data = v;
                    }
                    break;
                case "--oplog":
                    oplog = Boolean.TRUE;
                    break;
                case "--no-oplog":
                    oplog = Boolean.FALSE;
                    break;
                case "-h":
                case "--help":
                    usage("help");
                    break;
                default:
                    usage("unknown argument: " + args[i]);
            }
        }
        if (port == null) usage("--port is required");

        final MongoServer server;
        try {
            MongoBackend backend;
            if (data != null) {
                File f = new File(data).getAbsoluteFile();
                File dir = f.getParentFile();
                if (dir != null && !dir.isDirectory() && !dir.mkdirs()) {
                    throw new IllegalStateException("cannot create directory " + dir);
                }
                backend = new IdFirstH2Backend(f.getPath());
            } else {
                backend = new IdFirstMemoryBackend();
            }
            backend.version(new Mongo44());
            server = new MongoServer(backend);
            if (oplog == null ? data == null : oplog) {
                server.enableOplog();
            }
            server.bind(new InetSocketAddress(bind, port));
        } catch (Throwable e) {
            System.err.println("mm-mongo: failed to start: " + e);
            System.exit(1);
            return;
        }

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.shutdownNow(); // closes client connections, then the backend (H2: commit + close)
            } catch (Throwable e) {
                System.err.println("mm-mongo: error during shutdown: " + e);
            }
        }, "mm-mongo-shutdown"));

        InetSocketAddress local = server.getLocalAddress();
        System.out.println("mm-mongo listening on " + bind + ":" + local.getPort());
        System.out.flush();
        // Netty's event loop threads are non-daemon: the JVM stays up until SIGTERM.
    }
}
