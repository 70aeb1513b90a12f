package lb.control.lbctl;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import lb.control.socket.CommandDispatcher;

/**
 * A client connection to lb's control socket: sends a command line and reads its answer, which
 * ends at the first empty line (see {@link lb.control.socket.ControlServer} for the protocol).
 */
final class ControlConnection implements AutoCloseable
{
    /** The socket could not be reached; the message is the system's reason, such as "No such file or directory". */
    static final class ConnectFailure extends IOException
    {
        private static final long serialVersionUID = 1L;

        ConnectFailure(final String reason, final Throwable cause)
        {
            super(reason, cause);
        }
    }

    private final UnixSocketChannel channel;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    private ControlConnection(final UnixSocketChannel channel)
    {
        this.channel = channel;
        readBuffer.flip();
    }

    /**
     * @param socket the control socket path.
     * @return a connection.
     * @throws ConnectFailure with the system's reason if nothing can be reached there.
     */
    static ControlConnection open(final Path socket) throws ConnectFailure
    {
        try
        {
            return new ControlConnection(UnixSocketChannel.open(new UnixSocketAddress(socket.toFile())));
        }
        catch (final IOException ex)
        {
            throw new ConnectFailure(ex.getMessage(), ex);
        }
    }

    /**
     * @param words the command and its arguments; each is quoted as needed.
     * @return the answer: its lines, each ended by {@code \n}, without the empty line that ends it.
     * @throws IOException if the connection fails or closes before the answer ends.
     */
    String request(final List<String> words) throws IOException
    {
        final StringBuilder line = new StringBuilder();
        for (final String word : words)
        {
            if (line.length() > 0)
            {
                line.append(' ');
            }
            line.append(CommandDispatcher.quote(word));
        }
        line.append('\n');
        final ByteBuffer out = ByteBuffer.wrap(line.toString().getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining())
        {
            channel.write(out);
        }
        return readAnswer();
    }

    private String readAnswer() throws IOException
    {
        pending.reset();
        int lineStart = 0;
        while (true)
        {
            if (!readBuffer.hasRemaining())
            {
                readBuffer.clear();
                final int read = channel.read(readBuffer);
                readBuffer.flip();
                if (read < 0)
                {
                    throw new IOException("lb closed the connection before its answer ended");
                }
                continue;
            }
            final byte b = readBuffer.get();
            if (b != '\n')
            {
                pending.write(b);
                continue;
            }
            if (pending.size() == lineStart)
            {
                return pending.toString(StandardCharsets.UTF_8);
            }
            pending.write(b);
            lineStart = pending.size();
        }
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }
}
