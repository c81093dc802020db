import { BadRequestException, ParseUUIDPipe } from '@nestjs/common';

/** A UUID path parameter whose 400 names the parameter. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    exceptionFactory: () => new BadRequestException(`${name} must be a UUID`),
  });
}
