package lb.control.socket;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

import jnr.enxio.channels.NativeSelectorProvider;
import jnr.unixsocket.Credentials;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

/**
 * The control socket: a unix stream socket on which people and scripts send runtime commands,
 * in the manner of HAProxy's runtime API.
 *
 * <h2>Protocol</h2>
 * A client sends one command per line, ended by {@code \n} ({@code \r\n} is accepted). The
 * server answers each line, in order, with zero or more lines of text followed by one empty
 * line: a reader collects lines until the first empty one. An answer itself never contains an
 * empty line. An answer that starts with {@code error: } is an error of one line. An empty command
 * line gets an empty answer (just the empty line), so a script can always count answers. Many
 * commands may be sent without waiting ("pipelining"); answers come in the same order. A command
 * not ended by {@code \n} when the client closes is not carried out. {@code quit} closes the
 * connection without an answer. Lines longer than
 * {@link ControlSocketOptions#maxLineBytes()} bytes are answered with an error as soon as they
 * pass the limit, and the rest of the line is discarded; the connection stays usable.
 *
 * <h2>Access</h2>
 * The socket file is mode 0600 (0660 and chowned to the group, if a group is configured), in a
 * parent directory created with mode 0755 if missing. Each connecting peer's credentials
 * (SO_PEERCRED) are checked by {@link PeerAccess}; a peer that may not use the socket receives
 * {@code error: permission denied ...} and is closed.
 *
 * <h2>Threading and limits</h2>
 * One thread ({@code lb-control-socket}) serves every client with a selector, so commands run
 * one at a time and the {@link CommandDispatcher} (and the {@link RuntimeApi} behind it) needs no
 * locking of its own against other clients. While a client leaves its answers unread (its socket
 * buffer full and more than 64 KiB waiting behind it), the server takes no further commands from
 * it; a client whose waiting answers would exceed {@link ControlSocketOptions#maxOutputBytes()} is
 * closed and the reason logged.
 */
public final class ControlServer implements AutoCloseable
{
    private static final String THREAD_NAME = "lb-control-socket";
    private static final long JOIN_TIMEOUT_MS = 5_000;

    private final ControlSocketOptions options;
    private final CommandDispatcher dispatcher;
    private final Consumer<String> log;
    private final PeerAccess access;
    private final SocketFile socketFile;
    private final UnixServerSocketChannel serverChannel;
    private final Selector selector;
    private final Thread thread;
    private final List<ControlClient> clients = new ArrayList<>();
    private volatile boolean running = true;
    private volatile int clientCount;
    private boolean closed;

    private ControlServer(
        final ControlSocketOptions options, final CommandDispatcher dispatcher, final Consumer<String> log,
        final SocketFile socketFile, final UnixServerSocketChannel serverChannel, final Selector selector)
    {
        this.options = options;
        this.dispatcher = dispatcher;
        this.log = log;
        this.socketFile = socketFile;
        this.serverChannel = serverChannel;
        this.selector = selector;
        this.access = PeerAccess.forProcesses(socketFile.ownerUid(), socketFile.groupId());
        this.thread = new Thread(this::run, THREAD_NAME);
        this.thread.setDaemon(true);
    }

    /**
     * Creates the socket file (replacing a stale one) and starts serving on a new thread.
     *
     * @param options    where and for whom.
     * @param dispatcher carries out the commands, on the control-socket thread.
     * @param log        where refusals and failures are reported, one line each.
     * @return the running server; {@link #close()} stops it and removes the socket file.
     * @throws IOException with a message fit for the user if the socket cannot be set up: the
     *                     path is in use by a live lb, is not a socket, or cannot be created.
     */
    public static ControlServer start(
        final ControlSocketOptions options, final CommandDispatcher dispatcher, final Consumer<String> log)
        throws IOException
    {
        final SocketFile socketFile = SocketFile.prepare(options.path(), options.group());
        UnixServerSocketChannel serverChannel = null;
        Selector selector = null;
        try
        {
            serverChannel = socketFile.bind();
            serverChannel.configureBlocking(false);
            selector = NativeSelectorProvider.getInstance().openSelector();
            serverChannel.register(selector, SelectionKey.OP_ACCEPT);
            final ControlServer server = new ControlServer(options, dispatcher, log, socketFile, serverChannel, selector);
            server.thread.start();
            return server;
        }
        catch (final IOException | RuntimeException ex)
        {
            closeQuietly(selector);
            closeQuietly(serverChannel);
            socketFile.delete();
            throw ex;
        }
    }

    /** @return the socket file. */
    public Path path()
    {
        return options.path();
    }

    /** @return the uid and group that {@link PeerAccess} lets in besides root. */
    public PeerAccess access()
    {
        return access;
    }

    /** @return clients connected now (read from any thread). */
    public int clientCount()
    {
        return clientCount;
    }

    /**
     * Stops the thread, closes every client and removes the socket file (if it is still the one
     * this server created).
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        running = false;
        selector.wakeup();
        if (Thread.currentThread() != thread)
        {
            try
            {
                thread.join(JOIN_TIMEOUT_MS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive())
            {
                log.accept("control socket: thread did not stop within " + JOIN_TIMEOUT_MS + " ms");
            }
        }
        socketFile.delete();
    }

    private void run()
    {
        try
        {
            while (running)
            {
                selector.select();
                final Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext())
                {
                    final SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid())
                    {
                        continue;
                    }
                    if (key.attachment() instanceof ControlClient client)
                    {
                        serve(client, key);
                    }
                    else
                    {
                        acceptAll();
                    }
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            if (running)
            {
                log.accept("control socket: stopped serving " + options.path() + ": " + ex);
            }
        }
        finally
        {
            for (final ControlClient client : new ArrayList<>(clients))
            {
                drop(client);
            }
            closeQuietly(serverChannel);
            closeQuietly(selector);
        }
    }

    private void acceptAll() throws IOException
    {
        UnixSocketChannel channel;
        while ((channel = serverChannel.accept()) != null)
        {
            try
            {
                admit(channel);
            }
            catch (final IOException | RuntimeException ex)
            {
                log.accept("control socket: could not take a client: " + ex);
                closeQuietly(channel);
            }
        }
    }

    private void admit(final UnixSocketChannel channel) throws IOException
    {
        channel.configureBlocking(false);
        final Credentials credentials = channel.getOption(UnixSocketOptions.SO_PEERCRED);
        final PeerAccess.Peer peer = new PeerAccess.Peer(credentials.getPid(), credentials.getUid(), credentials.getGid());
        if (!access.permits(peer))
        {
            log.accept("control socket: refused " + peer + ": not root, uid " + access.ownerUid() +
                (access.groupId() == PeerAccess.NO_GROUP ? "" : " or group " + access.groupId()));
            ControlClient.refuse(channel, "error: permission denied: uid " + peer.uid() + " may not use " +
                options.path() + "\n\n");
            closeQuietly(channel);
            return;
        }
        final SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
        final ControlClient client = new ControlClient(channel, key, peer, dispatcher, options.maxLineBytes(),
            options.maxOutputBytes());
        key.attach(client);
        clients.add(client);
        clientCount = clients.size();
    }

    private void serve(final ControlClient client, final SelectionKey key)
    {
        try
        {
            if (key.isWritable())
            {
                client.flush();
            }
            if (key.isReadable())
            {
                client.readAvailable();
            }
            client.process();
            if (client.isFinished())
            {
                drop(client);
            }
            else
            {
                client.updateInterest();
            }
        }
        catch (final ControlClient.OutputLimitException ex)
        {
            log.accept("control socket: closed client " + client.peer() + ": " + ex.getMessage());
            drop(client);
        }
        catch (final IOException | RuntimeException ex)
        {
            // A client that vanished mid-command (EPIPE, ECONNRESET) is nothing to report.
            drop(client);
        }
    }

    private void drop(final ControlClient client)
    {
        closeQuietly(client.channel());
        clients.remove(client);
        clientCount = clients.size();
    }

    private static void closeQuietly(final AutoCloseable closeable)
    {
        if (closeable == null)
        {
            return;
        }
        try
        {
            closeable.close();
        }
        catch (final Exception ignored)
        {
            // Closing is best effort: the descriptor is released either way.
        }
    }
}
