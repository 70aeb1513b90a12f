package lb.control.socket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

import jnr.unixsocket.UnixSocketChannel;

/**
 * One connection of the control socket, driven by the {@link ControlServer} thread: it splits
 * the input into lines, has each carried out by the dispatcher, and queues the answers.
 * <p>
 * Memory per client is bounded: one input chunk, one line, and the answers the socket has not
 * taken yet. The client's commands wait while more than {@link #resumeBelowBytes} of answers are
 * unsent (so a script that pipelines many commands without reading is slowed down, not cut off),
 * and the client is closed if one more answer would leave more than the output limit unsent.
 */
final class ControlClient
{
    /** Bytes read from the socket at a time. */
    private static final int INPUT_CHUNK = 8192;
    /** Answers are queued in pieces of this size, so each write copies little (jnr copies what it writes). */
    private static final int OUTPUT_PIECE = 64 * 1024;

    /** The client would leave more answers unsent than the limit. */
    static final class OutputLimitException extends IOException
    {
        private static final long serialVersionUID = 1L;

        OutputLimitException(final String message)
        {
            super(message);
        }
    }

    private final UnixSocketChannel channel;
    private final SelectionKey key;
    private final PeerAccess.Peer peer;
    private final CommandDispatcher dispatcher;
    private final int maxLineBytes;
    private final long maxOutputBytes;
    private final long resumeBelowBytes;
    private final ByteBuffer input = ByteBuffer.allocate(INPUT_CHUNK);
    /** One more byte than the limit, for the '\r' of a line of exactly the limit ended by "\r\n". */
    private final byte[] line;
    private final ArrayDeque<ByteBuffer> output = new ArrayDeque<>();
    private int lineLength;
    private boolean discardingLine;
    private long unsentBytes;
    private boolean inputEnded;
    private boolean quitting;

    ControlClient(
        final UnixSocketChannel channel, final SelectionKey key, final PeerAccess.Peer peer,
        final CommandDispatcher dispatcher, final int maxLineBytes, final long maxOutputBytes)
    {
        this.channel = channel;
        this.key = key;
        this.peer = peer;
        this.dispatcher = dispatcher;
        this.maxLineBytes = maxLineBytes;
        this.maxOutputBytes = maxOutputBytes;
        this.resumeBelowBytes = Math.min(64 * 1024, maxOutputBytes / 2);
        this.line = new byte[maxLineBytes + 1];
        input.flip();
    }

    /**
     * Writes one message to a client about to be closed, without waiting: a fresh socket's
     * buffer takes a short message whole.
     */
    static void refuse(final UnixSocketChannel channel, final String message)
    {
        try
        {
            channel.write(ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
        }
        catch (final IOException | RuntimeException ignored)
        {
            // The peer is refused either way.
        }
    }

    UnixSocketChannel channel()
    {
        return channel;
    }

    PeerAccess.Peer peer()
    {
        return peer;
    }

    /** Reads what the socket has, if the last chunk has been used up and commands are wanted. */
    void readAvailable() throws IOException
    {
        if (input.hasRemaining() || inputEnded || quitting)
        {
            return;
        }
        input.clear();
        final int read = channel.read(input);
        input.flip();
        if (read < 0)
        {
            // A command without its line break is not carried out: it may be cut short.
            inputEnded = true;
            lineLength = 0;
        }
    }

    /**
     * Carries out the complete lines read so far and writes their answers, for as long as the
     * socket takes the answers: while more than a little is left unsent, commands wait.
     */
    void process() throws IOException
    {
        while (true)
        {
            while (input.hasRemaining() && !quitting && unsentBytes < resumeBelowBytes)
            {
                final byte b = input.get();
                if (discardingLine)
                {
                    discardingLine = b != '\n';
                    continue;
                }
                if (b == '\n')
                {
                    endLine();
                    continue;
                }
                if (lineLength == line.length)
                {
                    lineLength = 0;
                    discardingLine = true;
                    queue("error: line longer than " + maxLineBytes + " bytes; the rest of it is ignored\n");
                    continue;
                }
                line[lineLength++] = b;
            }
            flush();
            if (!input.hasRemaining() || quitting || unsentBytes >= resumeBelowBytes)
            {
                return;
            }
        }
    }

    /** Writes queued answers until the socket would block. */
    void flush() throws IOException
    {
        while (!output.isEmpty())
        {
            final ByteBuffer piece = output.peekFirst();
            final int written = channel.write(piece);
            unsentBytes -= written;
            if (piece.hasRemaining())
            {
                return;
            }
            output.removeFirst();
        }
    }

    /** @return whether the connection is done: quit or closed by the client, and every answer written. */
    boolean isFinished()
    {
        return output.isEmpty() && (quitting || (inputEnded && !input.hasRemaining()));
    }

    /** Asks the selector for what this client waits on next; never for nothing while it lives. */
    void updateInterest()
    {
        int ops = 0;
        if (!output.isEmpty())
        {
            ops |= SelectionKey.OP_WRITE;
        }
        if (!input.hasRemaining() && !inputEnded && !quitting && unsentBytes < resumeBelowBytes)
        {
            ops |= SelectionKey.OP_READ;
        }
        if (ops == 0)
        {
            // Not reached (process() runs until input is used up or answers pile up), but a key
            // with no interest would still report a hang-up forever: keep watching for it.
            ops = SelectionKey.OP_READ;
        }
        key.interestOps(ops);
    }

    private void endLine() throws IOException
    {
        int length = lineLength;
        lineLength = 0;
        if (length > 0 && line[length - 1] == '\r')
        {
            length--;
        }
        if (length > maxLineBytes)
        {
            queue("error: line longer than " + maxLineBytes + " bytes\n");
            return;
        }
        final CommandDispatcher.Answer answer = dispatcher.dispatch(new String(line, 0, length, StandardCharsets.UTF_8));
        if (answer.closesConnection())
        {
            quitting = true;
            return;
        }
        queue(answer.text());
    }

    /** Queues an answer and the empty line that ends it. */
    private void queue(final String answer) throws IOException
    {
        final byte[] bytes = (answer + "\n").getBytes(StandardCharsets.UTF_8);
        if (unsentBytes + bytes.length > maxOutputBytes)
        {
            throw new OutputLimitException("an answer of " + bytes.length + " bytes on top of " + unsentBytes +
                " unsent would exceed the limit of " + maxOutputBytes + " bytes");
        }
        for (int offset = 0; offset < bytes.length; offset += OUTPUT_PIECE)
        {
            output.addLast(ByteBuffer.wrap(bytes, offset, Math.min(OUTPUT_PIECE, bytes.length - offset)));
        }
        unsentBytes += bytes.length;
    }
}
