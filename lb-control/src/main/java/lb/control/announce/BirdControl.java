package lb.control.announce;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection to BIRD's control socket (the protocol {@code birdc} speaks): a command is one
 * line; each reply line starts with a four-digit code followed by {@code -} (more lines follow)
 * or a space (the last line), and a line starting with a space continues the one before it.
 * Codes 0xxx are success, 1xxx and 2xxx carry table rows, 8xxx and 9xxx are errors. Every read
 * waits at most the timeout, so a hung BIRD costs the announcer's thread a bounded wait.
 */
final class BirdControl implements AutoCloseable
{
    /** One reply: its final code and every line's text (without code). */
    record Reply(int code, List<String> lines)
    {
        boolean failed()
        {
            return code >= 8000;
        }

        String text()
        {
            return String.join(" / ", lines);
        }
    }

    private final SocketChannel channel;
    private final Selector selector;
    private final long timeoutMillis;
    private final ByteBuffer input = ByteBuffer.allocate(64 * 1024);
    private final StringBuilder line = new StringBuilder(256);

    private BirdControl(final SocketChannel channel, final Selector selector, final long timeoutMillis)
    {
        this.channel = channel;
        this.selector = selector;
        this.timeoutMillis = timeoutMillis;
        input.flip();
    }

    /** Connects and reads BIRD's greeting ({@code 0001 BIRD 2.0.12 ready.}). */
    static BirdControl connect(final Path socket, final long timeoutMillis) throws IOException
    {
        final SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        final Selector selector;
        try
        {
            channel.configureBlocking(false);
            selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
        }
        catch (final IOException ex)
        {
            channel.close();
            throw ex;
        }
        final BirdControl control = new BirdControl(channel, selector, timeoutMillis);
        try
        {
            final Reply hello = control.readReply();
            if (hello.code() != 1)
            {
                throw new IOException("BIRD greeted with " + hello.code() + " " + hello.text());
            }
        }
        catch (final IOException ex)
        {
            control.close();
            throw ex;
        }
        return control;
    }

    /** Sends one command and reads its whole reply. */
    Reply command(final String command) throws IOException
    {
        final ByteBuffer out = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
        final long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (out.hasRemaining())
        {
            if (channel.write(out) == 0)
            {
                if (System.nanoTime() > deadline)
                {
                    throw new IOException("BIRD does not take the command '" + command + "'");
                }
                Thread.onSpinWait();
            }
        }
        return readReply();
    }

    private Reply readReply() throws IOException
    {
        final List<String> lines = new ArrayList<>();
        final long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (true)
        {
            final String text = readLine(deadline);
            if (text.startsWith(" ") || text.startsWith("+"))
            {
                lines.add(text.substring(1));
                continue;
            }
            if (text.length() < 5 || !isCode(text) || (text.charAt(4) != ' ' && text.charAt(4) != '-'))
            {
                throw new IOException("BIRD sent a line without a reply code: '" + text + "'");
            }
            lines.add(text.substring(5));
            if (text.charAt(4) == ' ')
            {
                return new Reply(Integer.parseInt(text, 0, 4, 10), lines);
            }
        }
    }

    private static boolean isCode(final String text)
    {
        for (int i = 0; i < 4; i++)
        {
            if (!Character.isDigit(text.charAt(i)))
            {
                return false;
            }
        }
        return true;
    }

    private String readLine(final long deadline) throws IOException
    {
        line.setLength(0);
        while (true)
        {
            while (input.hasRemaining())
            {
                final char c = (char)(input.get() & 0xff);
                if (c == '\n')
                {
                    return line.toString();
                }
                if (line.length() < 64 * 1024)
                {
                    line.append(c);
                }
            }
            final long waitMillis = (deadline - System.nanoTime()) / 1_000_000L;
            if (waitMillis <= 0)
            {
                throw new IOException("BIRD did not answer within " + timeoutMillis + " ms");
            }
            selector.select(waitMillis);
            selector.selectedKeys().clear();
            input.clear();
            final int read = channel.read(input);
            input.flip();
            if (read < 0)
            {
                throw new IOException("BIRD closed its control socket");
            }
        }
    }

    @Override
    public void close()
    {
        try
        {
            selector.close();
        }
        catch (final IOException ignored)
        {
            // Closing the channel is what matters.
        }
        try
        {
            channel.close();
        }
        catch (final IOException ignored)
        {
            // Nothing to do about it.
        }
    }
}
