-- Objects every part of the extension uses.

